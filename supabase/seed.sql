-- Seed data for local development and demos: two organizations, five bots in four time zones,
-- three weeks of traffic with a daily rhythm (about 15k conversations, 100k messages), then
-- one run of each rollup so the dashboard opens on real figures.
--
-- Sign in as alice@botflow.test (owner of Acme), carol@botflow.test (viewer at Acme) or
-- bob@botflow.test (owner of Globex; Alice has invited him to Acme as admin, pending), password
-- `password123`. Each bot has a demo API key:
-- bf_live_demo_<bot slug>, e.g. bf_live_demo_acme_support.
-- Deterministic: the same seed gives the same traffic shape (times move with the clock).

select setseed(0.42);

-- =====================================================================================
-- Users (their personal organizations come from the sign-up trigger)
-- =====================================================================================
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
	raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', u.id, 'authenticated', 'authenticated', u.email,
	extensions.crypt('password123', extensions.gen_salt('bf', 10)), now(),
	'{"provider":"email","providers":["email"]}', jsonb_build_object('full_name', u.full_name), now(), now()
from (values
	('a0000000-0000-4000-8000-000000000001'::uuid, 'alice@botflow.test', 'Alice Martin'),
	('b0000000-0000-4000-8000-000000000002'::uuid, 'bob@botflow.test', 'Bob Chen'),
	('c0000000-0000-4000-8000-000000000003'::uuid, 'carol@botflow.test', 'Carol Diaz')
) u(id, email, full_name);

insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
select id::text, id, jsonb_build_object('sub', id::text, 'email', email, 'email_verified', true), 'email', now(), now()
from auth.users where email like '%@botflow.test';

-- =====================================================================================
-- Organizations, members, bots, API keys
-- =====================================================================================
insert into public.organizations (id, name, retention_days, created_by) values
	('0a000000-0000-4000-8000-00000000000a', 'Acme Retail', 90, 'a0000000-0000-4000-8000-000000000001'),
	('0b000000-0000-4000-8000-00000000000b', 'Globex Support', 30, 'b0000000-0000-4000-8000-000000000002');

insert into public.organization_members (organization_id, user_id, role) values
	('0a000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-000000000003', 'viewer');
-- A pending invitation, so the members page and Bob's invitations have something to show.
insert into public.organization_invitations (organization_id, organization_name, email, role, invited_by) values
	('0a000000-0000-4000-8000-00000000000a', 'Acme Retail', 'bob@botflow.test', 'admin', 'a0000000-0000-4000-8000-000000000001');

insert into public.bots (id, organization_id, name, channel, timezone) values
	('a1000000-0000-4000-8000-0000000000a1', '0a000000-0000-4000-8000-00000000000a', 'Acme Support', 'web', 'Europe/Paris'),
	('a2000000-0000-4000-8000-0000000000a2', '0a000000-0000-4000-8000-00000000000a', 'Acme WhatsApp Sales', 'whatsapp', 'America/New_York'),
	('a3000000-0000-4000-8000-0000000000a3', '0a000000-0000-4000-8000-00000000000a', 'Acme Docs Agent', 'api', 'Asia/Kolkata'),
	('b1000000-0000-4000-8000-0000000000b1', '0b000000-0000-4000-8000-00000000000b', 'Globex Helpdesk', 'web', 'UTC'),
	('b2000000-0000-4000-8000-0000000000b2', '0b000000-0000-4000-8000-00000000000b', 'Globex Telegram', 'telegram', 'Australia/Sydney');

insert into public.bot_api_keys (bot_id, name, key_prefix, key_hash, created_by)
select b.id, 'demo', left(k.key, 14), extensions.digest(k.key, 'sha256'), o.created_by
from public.bots b
join public.organizations o on o.id = b.organization_id
cross join lateral (select 'bf_live_demo_' || lower(regexp_replace(b.name, '[^A-Za-z]+', '_', 'g')) as key) k;

-- =====================================================================================
-- Traffic: conversations per local hour follow a daily curve (quiet at night, busy midday)
-- =====================================================================================
insert into public.conversations (bot_id, external_id, channel, end_user_id, status, started_at)
select b.id, 'c-' || to_char(h, 'YYYYMMDDHH24') || '-' || i, b.channel,
	'u-' || (1 + floor(random() * 400))::int, 'active',
	least(h + random() * interval '59 minutes', now() - interval '1 minute')
from public.bots b
cross join generate_series(date_trunc('hour', now(), 'UTC') - interval '21 days', now() - interval '5 minutes', interval '1 hour') h
cross join lateral generate_series(1, (1 + round(
	(case when b.name like 'Globex%' then 5 else 8 end)
	* greatest(0, sin(pi() * (extract(hour from h at time zone b.timezone) - 6) / 16))
	* (0.7 + 0.6 * random())))::int) i
where h + interval '1 minute' < now();

insert into public.messages (bot_id, conversation_id, external_id, role, content, sent_at, ingested_at,
	response_time_ms, success, error_code, intent, model, tokens_in, tokens_out, cost_usd)
select c.bot_id, c.id, c.external_id || '-m' || j,
	(case when j % 2 = 1 then 'user' else 'bot' end)::public.message_role,
	case when j % 2 = 1 then (array['Where is my order?', 'I want to change my delivery address',
		'How do I reset my password?', 'Can I talk to a human please?', 'What are your opening hours?',
		'My card payment failed twice', 'Do you ship to Canada?', 'Thanks, that helped!'])[1 + t.topic]
	else (array['Your order is on its way and should arrive tomorrow.', 'Sure, which address should we use?',
		'Use the "Forgot password" link on the sign-in page.', 'Let me connect you with a colleague.',
		'We are open 9:00 to 18:00, Monday to Saturday.', 'Sorry about that, please try another card.',
		'Yes, we ship to Canada within 5 business days.', 'Happy to help!'])[1 + t.topic] end,
	c.started_at + (j - 1) * interval '35 seconds' + t.jitter,
	c.started_at + (j - 1) * interval '35 seconds' + t.jitter + interval '1 second',
	case when j % 2 = 0 then (250 + 6000 * power(random(), 4))::int end,
	case when j % 2 = 0 then random() > 0.04 end,
	null,
	case when j % 2 = 1 then (array['order_status', 'change_address', 'reset_password', 'human_handoff',
		'opening_hours', 'payment_issue', 'shipping', 'thanks'])[1 + t.topic] end,
	case when j % 2 = 0 then (array['gpt-4o-mini', 'gpt-4o', 'claude-haiku'])[1 + (abs(hashtext(c.external_id)) % 3)] end,
	case when j % 2 = 0 then 150 + (random() * 600)::int else 0 end,
	case when j % 2 = 0 then 40 + (random() * 200)::int else 0 end,
	case when j % 2 = 0 then round((0.0002 + random() * 0.002)::numeric, 6) else 0 end
from public.conversations c
cross join generate_series(1, 2 + abs(hashtext(c.external_id)) % 11) j
cross join lateral (select (abs(hashtext(c.external_id || j)) % 8) topic,
	random() * interval '20 seconds' jitter) t
where c.started_at + (j - 1) * interval '35 seconds' + interval '20 seconds' < now();

update public.messages set success = false, error_code = 'llm_timeout', response_time_ms = 30000
where role = 'bot' and success = false;

-- Outcomes: finished conversations completed, abandoned or handed off; recent ones stay active.
update public.conversations c set
	last_message_at = o.last_at,
	status = o.status,
	ended_at = case when o.status in ('completed', 'abandoned') then o.last_at end,
	handed_off_at = case when o.status = 'handed_off' then o.last_at end,
	updated_at = now()
from (
	select m.conversation_id, m.last_at, case
		when m.last_at > now() - interval '20 minutes' then 'active'
		when abs(hashtext(x.external_id)) % 100 < 72 then 'completed'
		when abs(hashtext(x.external_id)) % 100 < 86 then 'abandoned'
		else 'handed_off' end::public.conversation_status status
	from (select conversation_id, max(sent_at) last_at from public.messages group by 1) m
	join public.conversations x on x.id = m.conversation_id
) o
where o.conversation_id = c.id;

select private.run_hourly_rollup();
select private.run_daily_rollup();
