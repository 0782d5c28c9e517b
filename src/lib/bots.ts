import { z } from 'zod';
import { Constants, type Enums } from './database.types';

/** Channels the database accepts: its enum type public.channel, through the generated types. */
export const CHANNELS = Constants.public.Enums.channel;
export type Channel = Enums<'channel'>;

export const CHANNEL_LABELS: Record<Channel, string> = {
	web: 'Web chat',
	whatsapp: 'WhatsApp',
	messenger: 'Messenger',
	telegram: 'Telegram',
	slack: 'Slack',
	sms: 'SMS',
	voice: 'Voice',
	api: 'API'
};

/** True for a time zone name the runtime knows (aliases such as "UTC" included). */
export function isValidTimeZone(name: string): boolean {
	if (!name || !/^[A-Za-z0-9_+\-/]+$/.test(name)) return false;
	try {
		new Intl.DateTimeFormat('en-US', { timeZone: name });
		return true;
	} catch {
		return false;
	}
}

let zones: string[] | undefined;
/** Every IANA zone, for the searchable picker (computed once). */
export function allTimeZones(): string[] {
	zones ??= ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
	return zones;
}

/**
 * Zones matching what the user typed: every word must appear, ignoring case, spaces and
 * underscores ("new york" finds America/New_York). At most `limit`, prefix matches of the city first.
 */
export function searchTimeZones(query: string, limit = 50): string[] {
	const words = query
		.toLowerCase()
		.replace(/_/g, ' ')
		.split(/[\s/]+/)
		.filter(Boolean);
	const all = allTimeZones();
	if (words.length === 0) return all.slice(0, limit);
	const hits = all.filter((z) => {
		const hay = z.toLowerCase().replace(/_/g, ' ');
		return words.every((w) => hay.includes(w));
	});
	const city = (z: string) => (z.split('/').pop() ?? z).toLowerCase().replace(/_/g, ' ');
	hits.sort(
		(a, b) => Number(!city(a).startsWith(words[0])) - Number(!city(b).startsWith(words[0]))
	);
	return hits.slice(0, limit);
}

export const botName = z
	.string()
	.trim()
	.min(1, { error: 'Give the bot a name' })
	.max(120, { error: 'Use at most 120 characters for the name' });

export const botSchema = z.object({
	name: botName,
	channel: z.enum(CHANNELS, { error: 'Pick one of the listed channels' }),
	timezone: z.string().trim().refine(isValidTimeZone, {
		error: 'Pick a time zone from the list, e.g. Europe/Paris'
	})
});
