import { sql, type Kysely } from 'kysely';

/**
 * `gateway_points` becomes a table partitioned by range of `run_started_at` (the start of the
 * point's run, a copy of `gateway_runs.started_at`), one partition per UTC month in the schema
 * `gateway_points_parts` (so the public schema lists one table, as before), plus a default
 * partition for a run dated outside every month created. A point's partition is its run's,
 * so a run-scoped read prunes to one partition, and retention drops whole months of points
 * instead of deleting rows. Two functions do the upkeep, called by the gateway at start-up
 * and on a timer, or by hand (`select * from gateway_points_maintain(3, 12)`):
 *
 * - `gateway_points_ensure(from, to)`: the monthly partitions covering [from, to], moving any
 *   rows the default partition held for those months into them.
 * - `gateway_points_maintain(ahead_months, retain_months)`: partitions for this month and
 *   `ahead_months` ahead, then drops the months that ended more than `retain_months` ago (and
 *   such rows in the default partition). Runs and their scenario summaries stay.
 *
 * The primary key gains `run_started_at` (a partitioned table's unique keys contain its
 * partition key) and carries `requests` and `errors`, so the error breakdown reads the index alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table gateway_points rename to gateway_points_unpartitioned`.execute(db);
  await sql`alter table gateway_points_unpartitioned rename constraint gateway_points_pkey to gateway_points_unpartitioned_pkey`.execute(db);
  await sql`create schema gateway_points_parts`.execute(db);
  await sql`
    create table gateway_points (
      project_id text not null,
      run_id text not null,
      scenario text not null,
      t double precision not null,
      run_started_at timestamptz not null,
      received_at timestamptz not null default now(),
      requests bigint not null,
      errors bigint not null,
      rps double precision not null,
      p50_ms double precision,
      p95_ms double precision,
      p99_ms double precision,
      histogram text,
      snapshot jsonb not null,
      constraint gateway_points_pkey primary key (project_id, run_id, scenario, t, run_started_at) include (requests, errors),
      constraint gateway_points_run_fkey foreign key (project_id, run_id) references gateway_runs (project_id, run_id) on delete cascade
    ) partition by range (run_started_at)`.execute(db);
  await sql`create table gateway_points_parts.gateway_points_default partition of gateway_points default`.execute(db);

  await sql.raw(`
    create function gateway_points_ensure(from_ts timestamptz, to_ts timestamptz) returns setof text
    language plpgsql as $$
    declare
      m timestamp;
      part text;
    begin
      for m in select generate_series(date_trunc('month', from_ts at time zone 'UTC'), date_trunc('month', to_ts at time zone 'UTC'), interval '1 month') loop
        part := 'gateway_points_p' || to_char(m, 'YYYYMM');
        continue when to_regclass('gateway_points_parts.' || part) is not null;
        -- A new month cannot be attached while the default partition holds rows of it: they move.
        create temp table gateway_points_moving (like gateway_points) on commit drop;
        with moved as (
          delete from gateway_points_parts.gateway_points_default
          where run_started_at >= (m at time zone 'UTC') and run_started_at < ((m + interval '1 month') at time zone 'UTC')
          returning *)
        insert into gateway_points_moving select * from moved;
        execute format('create table gateway_points_parts.%I partition of gateway_points for values from (%L) to (%L)',
          part, m at time zone 'UTC', (m + interval '1 month') at time zone 'UTC');
        insert into gateway_points select * from gateway_points_moving;
        drop table gateway_points_moving;
        return next part;
      end loop;
    end $$`).execute(db);

  await sql.raw(`
    create function gateway_points_maintain(ahead_months int, retain_months int) returns table(action text, partition text)
    language plpgsql as $$
    declare
      cutoff timestamptz := (date_trunc('month', now() at time zone 'UTC') - make_interval(months => retain_months)) at time zone 'UTC';
      part record;
    begin
      if ahead_months < 0 or retain_months < 1 then
        raise exception 'gateway_points_maintain: ahead_months must be >= 0 and retain_months >= 1 (got %, %)', ahead_months, retain_months;
      end if;
      return query select 'created'::text, p from gateway_points_ensure(now(), now() + make_interval(months => ahead_months)) as p;
      for part in
        select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_namespace n on n.oid = c.relnamespace
        where i.inhparent = 'gateway_points'::regclass and n.nspname = 'gateway_points_parts' and c.relname ~ '^gateway_points_p[0-9]{6}$'
          and (to_date(substr(c.relname, 17), 'YYYYMM')::timestamp + interval '1 month') at time zone 'UTC' <= cutoff
        order by c.relname
      loop
        execute format('drop table gateway_points_parts.%I', part.relname);
        action := 'dropped';
        partition := part.relname;
        return next;
      end loop;
      delete from gateway_points_parts.gateway_points_default where run_started_at < cutoff;
    end $$`).execute(db);

  // The months the stored points need, then the points themselves, each with its run's start.
  await sql`select gateway_points_ensure(coalesce((select min(started_at) from gateway_runs), now()), now() + interval '3 months')`.execute(db);
  await sql`
    insert into gateway_points (project_id, run_id, scenario, t, run_started_at, received_at, requests, errors, rps, p50_ms, p95_ms, p99_ms, histogram, snapshot)
    select p.project_id, p.run_id, p.scenario, p.t, r.started_at, p.received_at, p.requests, p.errors, p.rps, p.p50_ms, p.p95_ms, p.p99_ms, p.histogram, p.snapshot
    from gateway_points_unpartitioned p join gateway_runs r on r.project_id = p.project_id and r.run_id = p.run_id`.execute(db);
  await sql`drop table gateway_points_unpartitioned`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table gateway_points rename to gateway_points_partitioned`.execute(db);
  await sql`alter table gateway_points_partitioned rename constraint gateway_points_pkey to gateway_points_partitioned_pkey`.execute(db);
  await sql`
    create table gateway_points (
      project_id text not null,
      run_id text not null,
      scenario text not null,
      t double precision not null,
      received_at timestamptz not null default now(),
      requests bigint not null,
      errors bigint not null,
      rps double precision not null,
      p50_ms double precision,
      p95_ms double precision,
      p99_ms double precision,
      histogram text,
      snapshot jsonb not null,
      constraint gateway_points_pkey primary key (project_id, run_id, scenario, t),
      constraint gateway_points_run_fkey foreign key (project_id, run_id) references gateway_runs (project_id, run_id) on delete cascade
    )`.execute(db);
  await sql`
    insert into gateway_points select project_id, run_id, scenario, t, received_at, requests, errors, rps, p50_ms, p95_ms, p99_ms, histogram, snapshot
    from gateway_points_partitioned on conflict do nothing`.execute(db);
  await sql`drop table gateway_points_partitioned`.execute(db);
  await sql`drop function gateway_points_maintain(int, int)`.execute(db);
  await sql`drop function gateway_points_ensure(timestamptz, timestamptz)`.execute(db);
  await sql`drop schema gateway_points_parts cascade`.execute(db);
}
