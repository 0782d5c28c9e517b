-- Metrics helpers: latency histograms and local-time buckets, shared by the rollup tables (as
-- column defaults), the rollups and the read API. See the metrics migration for the histogram
-- layout (161 log-spaced buckets, 8 per doubling).

-- =====================================================================================
-- Histogram helpers
-- =====================================================================================
create or replace function private.latency_bucket(p_ms integer)
returns integer
language sql
immutable
parallel safe
set search_path = ''
as $$
	select case when p_ms is null then null
		else least(161, 1 + floor(8 * ln(greatest(p_ms, 1)::float8) / ln(2::float8))::integer) end
$$;
comment on function private.latency_bucket(integer) is
	'Histogram bucket (1..161) of a response time in ms: 8 log-spaced buckets per doubling.';

create or replace function private.latency_bucket_upper_ms(p_bucket integer)
returns numeric
language sql
immutable
parallel safe
set search_path = ''
as $$
	-- The open-ended last bucket reports its lower bound.
	select case when p_bucket is not null then round(power(2::numeric, least(p_bucket, 160) / 8.0), 1) end
$$;
comment on function private.latency_bucket_upper_ms(integer) is
	'Upper bound in ms of a histogram bucket: what percentiles report (bucket 161 reports 2^20 ms).';

create or replace function private.histogram_of(p_buckets integer[])
returns integer[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_histogram integer[] := array_fill(0, array[161]);
	v_bucket integer;
begin
	-- A loop over a local array updates in place: several times faster than a set-based count.
	if p_buckets is not null then
		foreach v_bucket in array p_buckets loop
			if v_bucket is not null then
				v_histogram[v_bucket] := v_histogram[v_bucket] + 1;
			end if;
		end loop;
	end if;
	return v_histogram;
end
$$;
comment on function private.histogram_of(integer[]) is 'Histogram (int[161]) of a list of bucket numbers.';

create or replace function private.histogram_from_pairs(p_buckets integer[], p_counts bigint[])
returns integer[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_histogram integer[] := array_fill(0, array[161]);
	v_i integer;
begin
	for v_i in 1 .. coalesce(cardinality(p_buckets), 0) loop
		v_histogram[p_buckets[v_i]] := v_histogram[p_buckets[v_i]] + p_counts[v_i];
	end loop;
	return v_histogram;
end
$$;
comment on function private.histogram_from_pairs(integer[], bigint[]) is
	'Histogram (int[161]) from parallel arrays of bucket numbers and their counts (pre-aggregated input).';

create or replace function private.histogram_fold(p_histograms integer[])
returns integer[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_histogram integer[] := array_fill(0, array[161]);
	v_i integer;
	v_k integer;
begin
	-- array_agg of int[161] rows is a 2-D array; a plain loop beats unnest + group by here.
	for v_i in 1 .. coalesce(array_length(p_histograms, 1), 0) loop
		for v_k in 1 .. 161 loop
			v_histogram[v_k] := v_histogram[v_k] + p_histograms[v_i][v_k];
		end loop;
	end loop;
	return v_histogram;
end
$$;
comment on function private.histogram_fold(integer[]) is
	'Merges histograms: private.histogram_fold(array_agg(latency_histogram)) adds them bucket by bucket.';

create or replace function private.histogram_percentiles(p_histogram integer[], p_fractions float8[])
returns numeric[]
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
	v_out numeric[] := array_fill(null::numeric, array[coalesce(cardinality(p_fractions), 0)]);
	v_total bigint := 0;
	v_rank numeric;
	v_seen bigint := 0;
	v_k integer := 1;
	v_i integer;
begin
	for v_k in 1 .. coalesce(cardinality(p_histogram), 0) loop
		v_total := v_total + p_histogram[v_k];
	end loop;
	if v_total = 0 then
		return v_out;
	end if;
	-- Ascending fractions (p50, p95, p99: every caller's order) walk the buckets once.
	v_k := 1;
	for v_i in 1 .. cardinality(p_fractions) loop
		if v_i > 1 and p_fractions[v_i] < p_fractions[v_i - 1] then
			v_k := 1;
			v_seen := 0;
		end if;
		-- The value at rank ceil(p * n), as percentile_disc defines it, at bucket resolution.
		v_rank := greatest(1, ceil(p_fractions[v_i] * v_total));
		while v_k <= cardinality(p_histogram) and v_seen + p_histogram[v_k] < v_rank loop
			v_seen := v_seen + p_histogram[v_k];
			v_k := v_k + 1;
		end loop;
		if v_k <= cardinality(p_histogram) then
			v_out[v_i] := private.latency_bucket_upper_ms(v_k);
		end if;
	end loop;
	return v_out;
end
$$;
comment on function private.histogram_percentiles(integer[], float8[]) is
	'Percentiles (0..1) of a histogram in ms, each the upper bound of the bucket holding it; nulls when empty.';

create or replace function private.histogram_percentile(p_histogram integer[], p_fraction float8)
returns numeric
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
	return (private.histogram_percentiles(p_histogram, array[p_fraction]))[1];
end
$$;
comment on function private.histogram_percentile(integer[], float8) is
	'Percentile (0..1) of a histogram in ms: the upper bound of the bucket holding it; null when empty.';

create or replace function private.bucket_start(p_at timestamptz, p_grain text, p_timezone text)
returns timestamptz
language sql
stable
parallel safe
set search_path = ''
as $$
	select case p_grain
		when 'hour' then date_trunc('hour', p_at, 'UTC')
		else date_trunc(p_grain, p_at, p_timezone)
	end
$$;
comment on function private.bucket_start(timestamptz, text, text) is
	'Start of the hour (UTC) or of the local day / week / month (bot time zone) containing a time.';

create or replace function private.local_day_end(p_day_start timestamptz, p_timezone text)
returns timestamptz
language sql
stable
parallel safe
set search_path = ''
as $$
	select ((p_day_start at time zone p_timezone) + interval '1 day') at time zone p_timezone
$$;
comment on function private.local_day_end(timestamptz, text) is
	'The next local midnight after a local midnight (23 or 25 hours later on DST days).';

revoke execute on function private.latency_bucket(integer), private.latency_bucket_upper_ms(integer),
	private.histogram_of(integer[]), private.histogram_from_pairs(integer[], bigint[]), private.histogram_fold(integer[]),
	private.histogram_percentile(integer[], float8), private.histogram_percentiles(integer[], float8[]),
	private.bucket_start(timestamptz, text, text),
	private.local_day_end(timestamptz, text)
	from public, anon;
-- The read API (security invoker) runs these as the caller, under the caller's RLS.
grant execute on function private.latency_bucket(integer), private.latency_bucket_upper_ms(integer),
	private.histogram_of(integer[]), private.histogram_from_pairs(integer[], bigint[]), private.histogram_fold(integer[]),
	private.histogram_percentile(integer[], float8), private.histogram_percentiles(integer[], float8[]),
	private.bucket_start(timestamptz, text, text),
	private.local_day_end(timestamptz, text)
	to authenticated, service_role;

-- Each reply's histogram bucket, computed once when the message is stored: the one place the
-- formula is applied to raw rows. The rollups and the live reads group by this column, which
-- also spares them a logarithm per row on every run (a function with a fixed search_path is
-- never inlined, so calling it per row at read time would dominate the rollup).
alter table public.messages
	add column latency_bucket integer generated always as (private.latency_bucket(response_time_ms)) stored;
comment on column public.messages.latency_bucket is
	'Histogram bucket of response_time_ms (private.latency_bucket); what the rollups count.';
