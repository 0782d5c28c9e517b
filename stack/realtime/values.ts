// pgoutput gives every value as Postgres text; hosted Realtime sends what to_jsonb would give
// (numbers, booleans, parsed JSON, ISO timestamps), so clients see the same record either way.

export function toJsonValue(text: string | null, type: string): unknown {
	if (text === null) return null;
	switch (type) {
		case 'int2':
		case 'int4':
		case 'float4':
		case 'float8':
		case 'oid': {
			const n = Number(text);
			return Number.isFinite(n) ? n : text;
		}
		case 'int8':
		case 'numeric': {
			const n = Number(text);
			return Number.isFinite(n) && (type === 'numeric' || Number.isSafeInteger(n)) ? n : text;
		}
		case 'bool':
			return text === 't';
		case 'json':
		case 'jsonb':
			try {
				return JSON.parse(text);
			} catch {
				return text;
			}
		case 'timestamptz':
			// 2026-01-02 03:04:05.678+00 -> 2026-01-02T03:04:05.678+00:00
			return text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
		case 'timestamp':
			return text.replace(' ', 'T');
		default:
			return text;
	}
}
