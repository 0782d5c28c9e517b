// Which bots the simulator plays and with which keys: the local seed's demo bots (their keys
// derive from their names, see supabase/seed.sql), or bots known only by the keys given.
import { config } from '../../stack/config.ts';
import type { BotProfile } from './conversation.ts';
import type { Options } from './options.ts';
import { UsageError } from './options.ts';
import { personaFor, personas, type Channel } from './personas.ts';

export interface SimBot extends BotProfile {
	key: string;
	name: string;
	/** IANA zone: backfill follows the bot's local day (busy at noon, quiet at night). */
	timezone: string;
}

/** The seed's demo key of a bot (the same expression as supabase/seed.sql). */
export function demoKey(botName: string): string {
	return `bf_live_demo_${botName.replace(/[^A-Za-z]+/g, '_').toLowerCase()}`;
}

/** The first N bots, or those whose names contain one of the given words. */
export function selectBots<T extends { name: string }>(all: T[], wanted: Options['bots']): T[] {
	if (wanted === undefined) return all;
	if (typeof wanted === 'number') return all.slice(0, wanted);
	const words = wanted.map((w) => w.toLowerCase().replace(/_/g, ' '));
	const chosen = all.filter((b) => words.some((w) => b.name.toLowerCase().includes(w)));
	if (chosen.length === 0) {
		throw new UsageError(
			`--bots ${wanted.join(',')}: no bot matches; the bots are ${all.map((b) => b.name).join(', ')}`
		);
	}
	return chosen;
}

/** A read of the local platform's REST API as the service role (no RLS: every tenant's bots). */
async function adminRead<T>(path: string): Promise<T> {
	const where = `${config.api.url}/rest/v1/${path}`;
	let res: Response;
	try {
		res = await fetch(where, {
			headers: {
				apikey: config.keys.serviceRole,
				authorization: `Bearer ${config.keys.serviceRole}`
			}
		});
	} catch (e) {
		throw new Error(
			`cannot reach ${config.api.url} (${(e as Error).message}); start the local platform (npm run stack:start) or pass --url and --key`,
			{ cause: e }
		);
	}
	if (!res.ok) throw new Error(`cannot list the bots (${res.status}): ${await res.text()}`);
	return (await res.json()) as T;
}

/** The local platform's bots that still have their seeded demo key. */
async function seededBots(): Promise<SimBot[]> {
	const [bots, keys] = await Promise.all([
		adminRead<{ id: string; name: string; channel: Channel; timezone: string }[]>(
			'bots?select=id,name,channel,timezone&order=created_at'
		),
		adminRead<{ bot_id: string; key_prefix: string }[]>(
			'bot_api_keys?select=bot_id,key_prefix&name=eq.demo&revoked_at=is.null'
		)
	]);
	const prefixes = new Map(keys.map((k) => [k.bot_id, k.key_prefix]));
	return bots
		.filter((b) => demoKey(b.name).startsWith(prefixes.get(b.id) ?? '\u0000'))
		.map((b, i) => ({
			key: demoKey(b.name),
			name: b.name,
			channel: b.channel,
			timezone: b.timezone,
			persona: personaFor(b.name, i)
		}));
}

export async function resolveBots(options: Options): Promise<{ url: string; bots: SimBot[] }> {
	if (options.keys.length > 0) {
		const bots = options.keys.map((key, i) => {
			const persona = personas[i % personas.length];
			return {
				key,
				name: `bot ${i + 1} (key ${key.slice(0, 14)}…)`,
				channel: persona.defaultChannel,
				timezone: 'UTC',
				persona
			};
		});
		return {
			url: options.url ?? `${config.api.url}/functions/v1/ingest`,
			bots: selectBots(bots, options.bots)
		};
	}
	const all = await seededBots();
	if (all.length === 0) {
		throw new UsageError(
			'no bot with a demo key in the local database: run `npm run stack:reset` to load the seed, or pass --key'
		);
	}
	return { url: `${config.api.url}/functions/v1/ingest`, bots: selectBots(all, options.bots) };
}
