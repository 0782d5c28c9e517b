import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilters } from '$lib/conversation-filters';
import { CsvProgress } from './csv-progress';
import { streamExport, ExportError, type FileSink } from './download';
import { exportFileName, exportQuery } from './export-query';

const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
const enc = new TextEncoder();

describe('exportQuery', () => {
	it('sends every filter of the list, so the file holds exactly the listed conversations', () => {
		const f = parseFilters(
			new URLSearchParams(
				'by=handed_off&status=handed_off&channel=web&q=refund&intent=billing&handoff=yes' +
					'&min_duration=5&max_duration=60.5&min_response=0&max_response=2000'
			)
		).filters;
		for (const kind of ['conversations', 'messages'] as const) {
			const { params, notApplied } = exportQuery(f, kind, 'bot-1', range);
			expect(Object.fromEntries(params)).toEqual({
				kind,
				bot: 'bot-1',
				from: '2026-11-01T00:00:00.000Z',
				to: '2026-12-01T00:00:00.000Z',
				by: 'handed_off',
				status: 'handed_off',
				channel: 'web',
				search: 'refund',
				intent: 'billing',
				handoff: 'yes',
				min_duration: '5',
				max_duration: '60.5',
				min_response: '0',
				max_response: '2000'
			});
			expect(notApplied).toEqual([]);
		}
	});

	it('leaves out filters the view does not set (start time is the default)', () => {
		const f = parseFilters(new URLSearchParams('handoff=no&max_response=900')).filters;
		const { params } = exportQuery(f, 'conversations', 'bot-1', range);
		expect([...params.keys()]).toEqual(['kind', 'bot', 'from', 'to', 'handoff', 'max_response']);
		expect(params.get('handoff')).toBe('no');
	});

	it('daily metrics take the range only and name each filter they ignore once', () => {
		const f = parseFilters(
			new URLSearchParams('status=active&by=ended&min_duration=1&max_duration=9&intent=x')
		).filters;
		const { params, notApplied } = exportQuery(f, 'daily', 'bot-1', range);
		expect([...params.keys()]).toEqual(['kind', 'bot', 'from', 'to']);
		expect(notApplied).toEqual(['ended time', 'status', 'intent', 'duration']);
	});

	it('suggests the file name export-csv gives', () => {
		expect(exportFileName('Acme Support ✓', 'messages', range)).toBe(
			'acme-support-messages-2026-11-01_2026-12-01.csv'
		);
	});
});

describe('CsvProgress', () => {
	it('counts records, not line breaks inside quoted cells, across chunk edges', () => {
		const p = new CsvProgress();
		const csv = 'id,content\r\n1,"line one\nline two"\r\n2,"say ""hi""\n"\r\n3,plain\r\n';
		const bytes = enc.encode(csv);
		// Split mid-quote and mid-line.
		for (const [a, b] of [
			[0, 15],
			[15, 30],
			[30, bytes.length]
		])
			p.push(bytes.subarray(a, b));
		expect(p.rows).toBe(3);
		expect(p.bytes).toBe(bytes.length);
	});
});

function memorySink(): FileSink & { text(): string; state: { aborted: boolean } } {
	const chunks: Uint8Array[] = [];
	const state = { aborted: false };
	const stream = new WritableStream<Uint8Array>({
		write: (c) => void chunks.push(c),
		abort: () => void (state.aborted = true)
	});
	return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8'), state });
}

describe('streamExport (real HTTP)', () => {
	let server: Server;
	let base: string;
	let stalled: (() => void) | null = null;
	beforeAll(async () => {
		server = createServer((req, res) => {
			if (req.url === '/ok') {
				res.writeHead(200, { 'content-type': 'text/csv' });
				res.write('a,b\r\n');
				for (let i = 0; i < 1000; i++) res.write(`${i},"x\ny"\r\n`);
				res.end();
			} else if (req.url === '/slow') {
				res.writeHead(200, { 'content-type': 'text/csv' });
				res.write('a\r\n1\r\n');
				stalled = () => res.destroy();
				req.on('close', () => stalled?.());
			} else {
				res.writeHead(400, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ error: 'bad_request', message: 'from must be before to' }));
			}
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((r) => server.close(() => r())));

	it('writes every byte to the file and reports rows as they arrive', async () => {
		const sink = memorySink();
		const seen: number[] = [];
		const total = await streamExport(`${base}/ok`, sink, {
			signal: new AbortController().signal,
			onProgress: (p) => seen.push(p.rows)
		});
		expect(total.rows).toBe(1000);
		expect(sink.text().split('\r\n').length - 2).toBe(1000);
		expect(total.bytes).toBe(Buffer.byteLength(sink.text()));
		expect(seen.at(-1)).toBe(1000);
		expect(seen.every((n, i) => i === 0 || n >= seen[i - 1])).toBe(true);
	});

	it('shows the function\u2019s own message when the export is refused', async () => {
		const sink = memorySink();
		await expect(
			streamExport(`${base}/bad`, sink, { signal: new AbortController().signal, onProgress() {} })
		).rejects.toThrow(new ExportError('from must be before to'));
		expect(sink.state.aborted).toBe(true);
	});

	it('cancel aborts the request and discards the partial file', async () => {
		const sink = memorySink();
		const ctl = new AbortController();
		const run = streamExport(`${base}/slow`, sink, {
			signal: ctl.signal,
			onProgress: (p) => {
				if (p.rows >= 1) ctl.abort();
			}
		});
		await expect(run).rejects.toThrow(/abort/i);
		expect(sink.state.aborted).toBe(true);
	});
});
