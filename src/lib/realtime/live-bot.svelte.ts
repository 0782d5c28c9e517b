// The bot page's live state: one Realtime channel (messages INSERT, conversations INSERT and
// UPDATE, filtered to the bot), the bounded feed, the active list, the connection status and
// the catch-up after a drop or a hidden tab. Figures are never derived here: `onActivity` asks
// the page to re-read them from the read API.
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import {
	advanceCursor,
	mergeFeed,
	timeKey,
	toFeedItem,
	type Cursor,
	type FeedItem
} from './feed-merge';

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export type ActiveConversation = {
	id: string;
	externalId: string;
	channel: string;
	status: string;
	startedAt: string;
	lastMessageAt: string | null;
	turns: number;
};

export type LiveBotOptions = {
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema: only channel() is used
	supabase: SupabaseClient<any, any, any>;
	botId: string;
	/** Feed rows kept in memory (the oldest fall off). */
	capacity?: number;
	/** Active conversations listed at most. */
	activeLimit?: number;
	initialFeed: FeedItem[];
	initialActive: ActiveConversation[];
	/** Rows stored since the cursor (read API / REST), for catch-up. */
	fetchSince: (cursor: Cursor) => Promise<FeedItem[]>;
	/** Something happened: refresh the figures (the caller throttles). */
	onActivity: () => void;
	/** New messages (live or caught up), e.g. for a chart of individual replies. */
	onRows?: (rows: FeedItem[]) => void;
	/** A catch-up finished: lists built from payloads may have missed updates. */
	onCaughtUp?: () => void;
};

export class LiveBot {
	feed = $state.raw<FeedItem[]>([]);
	active = $state.raw<ActiveConversation[]>([]);
	status = $state<ConnectionStatus>('connecting');
	/** How many live or caught-up messages arrived since the page opened. */
	received = $state(0);
	/** Whether the last catch-up failed (the next reconnect or visibility change retries). */
	catchUpError = $state<string | null>(null);

	#opts: LiveBotOptions;
	#capacity: number;
	#activeLimit: number;
	#cursor: Cursor | null;
	#channel: RealtimeChannel | null = null;
	#subscribedOnce = false;
	#stopped = false;
	#catchingUp: Promise<void> | null = null;
	#cleanups: (() => void)[] = [];

	constructor(opts: LiveBotOptions) {
		this.#opts = opts;
		this.#capacity = opts.capacity ?? 200;
		this.#activeLimit = opts.activeLimit ?? 50;
		this.feed = mergeFeed([], opts.initialFeed, this.#capacity);
		this.active = opts.initialActive.slice(0, this.#activeLimit);
		this.#cursor = advanceCursor(null, opts.initialFeed);
	}

	/** Opens the channel (as the signed-in user) and starts watching visibility and the network. */
	async start(): Promise<void> {
		const { supabase, botId } = this.#opts;
		// Realtime checks RLS with the token given at join: without it the join is anonymous and
		// sees nothing. A refreshed token is handed over without leaving the channel.
		const { data } = await supabase.auth.getSession();
		if (data.session) await supabase.realtime.setAuth(data.session.access_token);
		if (this.#stopped) return;
		const { data: auth } = supabase.auth.onAuthStateChange((event, session) => {
			if (session && (event === 'TOKEN_REFRESHED' || event === 'SIGNED_IN')) {
				void supabase.realtime.setAuth(session.access_token);
			}
		});
		this.#cleanups.push(() => auth.subscription.unsubscribe());
		const filter = `bot_id=eq.${botId}`;
		const channel = supabase
			.channel(`bot-live:${botId}`)
			.on(
				'postgres_changes',
				{ event: 'INSERT', schema: 'public', table: 'messages', filter },
				(p) => this.#onMessage(p.new as Record<string, unknown>)
			)
			.on(
				'postgres_changes',
				{ event: 'INSERT', schema: 'public', table: 'conversations', filter },
				(p) => this.#onConversation(p.new as Record<string, unknown>)
			)
			.on(
				'postgres_changes',
				{ event: 'UPDATE', schema: 'public', table: 'conversations', filter },
				(p) => this.#onConversation(p.new as Record<string, unknown>)
			);
		this.#channel = channel;
		channel.subscribe((state) => {
			if (this.#stopped) return;
			if (state === 'SUBSCRIBED') {
				this.status = 'live';
				// A rejoin after a drop: read what was committed meanwhile.
				if (this.#subscribedOnce) void this.catchUp();
				this.#subscribedOnce = true;
			} else {
				// realtime-js rejoins by itself; say so until it has.
				this.status = navigator.onLine ? 'reconnecting' : 'offline';
			}
		});

		const onVisible = () => {
			if (document.visibilityState === 'visible') void this.catchUp();
		};
		const onOffline = () => (this.status = 'offline');
		const onOnline = () => {
			if (this.status === 'offline') this.status = 'reconnecting';
		};
		document.addEventListener('visibilitychange', onVisible);
		window.addEventListener('offline', onOffline);
		window.addEventListener('online', onOnline);
		this.#cleanups.push(
			() => document.removeEventListener('visibilitychange', onVisible),
			() => window.removeEventListener('offline', onOffline),
			() => window.removeEventListener('online', onOnline)
		);
	}

	/** Removes the channel and listeners (navigation away). */
	stop(): void {
		this.#stopped = true;
		for (const c of this.#cleanups.splice(0)) c();
		if (this.#channel) void this.#opts.supabase.removeChannel(this.#channel);
		this.#channel = null;
	}

	/** Fetches rows stored since the last one seen and merges them (no gap, no duplicate). */
	catchUp(): Promise<void> {
		if (this.#catchingUp) return this.#catchingUp;
		this.#catchingUp = (async () => {
			try {
				// With nothing seen yet, everything from page load on counts as missed.
				// eslint-disable-next-line svelte/prefer-svelte-reactivity -- a value, not state
				const cursor = this.#cursor ?? { ingestedAt: new Date().toISOString(), id: 0 };
				const rows = await this.#opts.fetchSince(cursor);
				this.catchUpError = null;
				// eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, not state
				const known = new Set(this.feed.map((f) => f.id));
				const fresh = rows.filter((r) => !known.has(r.id));
				if (fresh.length > 0) this.#addMessages(fresh);
				// Conversations may have changed meanwhile too: the page re-reads what it shows.
				this.#opts.onCaughtUp?.();
				this.#opts.onActivity();
			} catch (e) {
				this.catchUpError = e instanceof Error ? e.message : String(e);
			} finally {
				this.#catchingUp = null;
			}
		})();
		return this.#catchingUp;
	}

	/** Replaces the active list (after a re-read from the read API). */
	setActive(list: ActiveConversation[]): void {
		this.active = list.slice(0, this.#activeLimit);
	}

	#onMessage(row: Record<string, unknown>): void {
		const item = toFeedItem(row);
		if (this.feed.some((f) => f.id === item.id)) return;
		this.#addMessages([item]);
		this.#opts.onActivity();
	}

	#addMessages(items: FeedItem[]): void {
		this.feed = mergeFeed(this.feed, items, this.#capacity);
		this.#cursor = advanceCursor(this.#cursor, items);
		this.received += items.length;
		this.#opts.onRows?.(items);
		// The active list shows each conversation's latest message and its turn count.
		// eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local tally, not state
		const perConversation = new Map<string, { n: number; last: string }>();
		for (const i of items) {
			const e = perConversation.get(i.conversation_id) ?? { n: 0, last: i.sent_at };
			e.n += 1;
			if (timeKey(i.sent_at) > timeKey(e.last)) e.last = i.sent_at;
			perConversation.set(i.conversation_id, e);
		}
		let changed = false;
		const next = this.active.map((c) => {
			const e = perConversation.get(c.id);
			if (!e) return c;
			changed = true;
			return { ...c, turns: c.turns + e.n, lastMessageAt: e.last };
		});
		if (changed) this.active = sortActive(next);
	}

	#onConversation(row: Record<string, unknown>): void {
		const id = String(row.id);
		const existing = this.active.find((c) => c.id === id);
		const status = String(row.status);
		if (status !== 'active') {
			if (existing) this.active = this.active.filter((c) => c.id !== id);
		} else {
			const next: ActiveConversation = {
				id,
				externalId: String(row.external_id),
				channel: String(row.channel),
				status,
				startedAt: String(row.started_at),
				lastMessageAt: row.last_message_at == null ? null : String(row.last_message_at),
				turns: existing?.turns ?? 0
			};
			const rest = this.active.filter((c) => c.id !== id);
			this.active = sortActive([next, ...rest]).slice(0, this.#activeLimit);
		}
		this.#opts.onActivity();
	}
}

function sortActive(list: ActiveConversation[]): ActiveConversation[] {
	const key = (c: ActiveConversation) => timeKey(c.lastMessageAt ?? c.startedAt);
	return [...list].sort((a, b) => key(b) - key(a));
}
