// Pure CSV helpers: no platform needed.
import assert from 'node:assert/strict';
import { CrlfRecords, csvField, neutralise } from '../_shared/csv.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test('Postgres CSV gets CRLF record ends; line feeds inside quotes stay data', () => {
	const csv = 'a,"x\ny"\nb,"say ""hi""\n"\nc,\n';
	const crlf = new CrlfRecords();
	// Split at every position: the quote state must carry across chunk boundaries.
	for (let cut = 0; cut <= csv.length; cut++) {
		const c = new CrlfRecords();
		const out = text(c.convert(bytes(csv.slice(0, cut)))) + text(c.convert(bytes(csv.slice(cut))));
		assert.equal(out, 'a,"x\ny"\r\nb,"say ""hi""\n"\r\nc,\r\n', `cut at ${cut}`);
		assert.equal(c.records, 3);
	}
	assert.equal(text(crlf.convert(bytes('no newline'))), 'no newline');
	// Several chunks at once come back as one buffer, the quote state carried between them.
	const many = new CrlfRecords();
	const pieces = ['a,"x', '\ny"\nb,', '"q"', '\n', 'c,\n'].map(bytes);
	assert.equal(text(many.convert(...pieces)), 'a,"x\ny"\r\nb,"q"\r\nc,\r\n');
	assert.equal(many.records, 3);
});

Deno.test('formula-looking text is neutralised, then quoted per RFC 4180', () => {
	assert.equal(neutralise('=1+1'), "'=1+1");
	assert.equal(neutralise('plain'), 'plain');
	for (const lead of ['=', '+', '-', '@', '\t', '\r', '\n'])
		assert.ok(neutralise(`${lead}x`).startsWith("'"));
	// Spreadsheets in CJK locales evaluate the fullwidth forms like the ASCII ones.
	for (const lead of ['＝', '＋', '－', '＠'])
		assert.equal(neutralise(`${lead}1+1`), `'${lead}1+1`);
	// Other wide characters are plain text.
	assert.equal(neutralise('＃1'), '＃1');
	assert.equal(csvField('a,"b"'), '"a,""b"""');
	assert.equal(csvField('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
	assert.equal(csvField(null), '');
	assert.equal(csvField(-3), '-3');
});
