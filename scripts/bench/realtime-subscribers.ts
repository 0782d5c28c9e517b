// The benchmark's subscribers (scripts/bench/realtime.ts): a lean Phoenix socket for the many,
// realtime-js for a few, each recording the commit-to-client latency of every change it hears.
import WebSocket from 'ws';
import { createClient } from '@supabase/supabase-js';
import { config } from '../../stack/config.ts';
import { signLegacy } from '../../stack/jwt.ts';

export interface Subscriber {
	org: number;
	received: number;
	latencies: number[];
	close(): void;
}

export const wsUrl = (port: number) =>
	`ws://127.0.0.1:${port}/realtime/v1/websocket?apikey=${config.keys.anon}&vsn=2.0.0`;
export const tokenFor = (user: string) =>
	signLegacy({
		role: 'authenticated',
		aud: 'authenticated',
		sub: user,
		exp: Math.floor(Date.now() / 1000) + 3600
	});

function record(sub: Subscriber, data: { commit_timestamp: string }) {
	sub.received++;
	sub.latencies.push(Date.now() - Date.parse(data.commit_timestamp));
}

/** A lightweight Phoenix client: one socket, one channel, postgres_changes on the bench table. */
export async function rawSubscriber(
	port: number,
	table: string,
	user: string,
	org: number
): Promise<Subscriber> {
	const ws = new WebSocket(wsUrl(port), { perMessageDeflate: false, skipUTF8Validation: true });
	const sub: Subscriber = { org, received: 0, latencies: [], close: () => ws.terminate() };
	await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
	const joined = new Promise<void>((resolve, reject) => {
		ws.on('message', (d: Buffer) => {
			// read only what the figure needs: a full parse per message would make the client
			// process, not the server, the bottleneck on this shared machine
			const at = d.indexOf('"commit_timestamp":"');
			if (at >= 0) {
				const from = at + 20;
				record(sub, { commit_timestamp: d.toString('utf8', from, d.indexOf('"', from)) });
				return;
			}
			const [, , , event, payload] = JSON.parse(d.toString());
			if (event === 'phx_reply' && payload.status === 'ok') resolve();
			else if (event === 'phx_reply') reject(new Error(JSON.stringify(payload)));
		});
	});
	const config = { postgres_changes: [{ event: 'INSERT', schema: 'public', table }] };
	ws.send(
		JSON.stringify([
			'1',
			'1',
			'realtime:bench',
			'phx_join',
			{ config, access_token: await tokenFor(user) }
		])
	);
	await joined;
	const beat = setInterval(
		() =>
			ws.readyState === WebSocket.OPEN &&
			ws.send(JSON.stringify([null, 'hb', 'phoenix', 'heartbeat', {}])),
		25_000
	);
	sub.close = () => (clearInterval(beat), ws.terminate());
	return sub;
}

/** The same through @supabase/supabase-js, as the dashboard subscribes. */
export async function jsSubscriber(
	port: number,
	table: string,
	user: string,
	org: number
): Promise<Subscriber> {
	const token = await tokenFor(user);
	const supabase = createClient(`http://127.0.0.1:${port}`, config.keys.anon, {
		accessToken: async () => token,
		realtime: { transport: WebSocket as never }
	});
	await supabase.realtime.setAuth();
	const sub: Subscriber = {
		org,
		received: 0,
		latencies: [],
		close: () => void supabase.removeAllChannels()
	};
	await new Promise<void>((resolve, reject) =>
		supabase
			.channel('bench')
			.on('postgres_changes', { event: 'INSERT', schema: 'public', table }, (p) =>
				record(sub, p as never)
			)
			.subscribe((s, e) => (s === 'SUBSCRIBED' ? resolve() : s !== 'CLOSED' && reject(e)))
	);
	return sub;
}
