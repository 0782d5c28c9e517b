// Shared setup for the REST specs: a superuser connection for fixtures, and clients that
// carry a given JWT the way a signed-in browser does.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { config } from '../config.ts';
import { adminSql } from '../testing.ts';

export const admin = adminSql();

/** Runs fixture DDL; the service's schema cache follows through `notify pgrst`. */
export async function ddl(text: string): Promise<void> {
	await admin.unsafe(text);
	await admin.unsafe(`notify pgrst, 'reload schema'`);
	// Give the notification a moment to reach the service before the first request.
	await new Promise((r) => setTimeout(r, 150));
}

/** A client whose requests carry `token` as the bearer, with the anon key as apikey. */
export function clientWithToken(token: string): SupabaseClient {
	return createClient(config.api.url, config.keys.anon, {
		auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
		// Node 20 has no global WebSocket, which realtime-js wants when a client is created.
		realtime: { transport: WebSocket as unknown as typeof globalThis.WebSocket },
		global: { headers: { Authorization: `Bearer ${token}` } }
	});
}

/** Bots, messages, labels (many-to-many) and a view, for the read specs. */
export async function createReadFixtures(): Promise<void> {
	await ddl(`
		drop table if exists public.rest_spec_read_bot_labels, public.rest_spec_read_labels,
			public.rest_spec_read_messages, public.rest_spec_read_bots cascade;
		create table public.rest_spec_read_bots (
			id int primary key,
			name text not null unique,
			tags text[] not null default '{}',
			settings jsonb,
			score numeric,
			description text,
			search tsvector generated always as (to_tsvector('english', coalesce(description, ''))) stored,
			active_hours int4range,
			created_at timestamptz not null default now()
		);
		create table public.rest_spec_read_messages (
			id int primary key,
			bot_id int not null references public.rest_spec_read_bots (id) on delete cascade,
			reply_to int references public.rest_spec_read_bots (id),
			body text not null,
			tokens int
		);
		create table public.rest_spec_read_labels (id int primary key, label text not null);
		create table public.rest_spec_read_bot_labels (
			bot_id int references public.rest_spec_read_bots (id) on delete cascade,
			label_id int references public.rest_spec_read_labels (id) on delete cascade,
			primary key (bot_id, label_id)
		);
		create view public.rest_spec_read_bot_names as select id, upper(name) as name from public.rest_spec_read_bots;
		insert into public.rest_spec_read_bots (id, name, tags, settings, score, description, active_hours) values
			(1, 'alpha', '{sales,web}', '{"model": {"name": "gpt", "size": 4}, "lang": "en"}', 9.5, 'The quick brown foxes jumped', '[8,18)'),
			(2, 'beta', '{support}', '{"model": {"name": "claude", "size": 3}, "lang": "fr"}', 7, 'Lazy dogs sleeping all day', '[0,24)'),
			(3, 'gamma', '{}', null, null, 'Quick answers for support', '[20,23)'),
			(4, 'Delta', '{web}', '{"lang": "en"}', 3.25, null, null);
		insert into public.rest_spec_read_messages (id, bot_id, reply_to, body, tokens) values
			(1, 1, null, 'hello', 10), (2, 1, 2, 'world', 20), (3, 2, null, 'bonjour', null);
		insert into public.rest_spec_read_labels values (1, 'vip'), (2, 'beta-test'), (3, 'unused');
		insert into public.rest_spec_read_bot_labels values (1, 1), (1, 2), (2, 2);
	`);
}

export async function dropReadFixtures(): Promise<void> {
	await admin.unsafe(`
		drop table if exists public.rest_spec_read_bot_labels, public.rest_spec_read_labels,
			public.rest_spec_read_messages, public.rest_spec_read_bots cascade
	`);
}
