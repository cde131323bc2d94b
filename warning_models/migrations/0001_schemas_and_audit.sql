-- Schemas ews owns outside dbt, and the audit trail of every batch.
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists audit;
create schema if not exists warning;

-- One row per landing file ever seen. A batch is (source, business date, file checksum).
create table audit.batches (
    batch_id        text primary key,
    source          text not null,
    business_date   date not null,
    file_name       text not null,
    file_checksum   text not null,          -- sha256 of the file bytes
    row_count       integer,                -- data rows (header excluded); null when the file could not be read
    status          text not null check (status in ('loaded', 'passed', 'quarantined', 'superseded')),
    loaded_at       timestamptz not null default now(),
    validated_at    timestamptz,
    detail          jsonb
);
-- At most one live batch (loaded or passed) per source and business date; the others stay for the record.
create unique index batches_one_live_per_day on audit.batches (source, business_date) where status in ('loaded', 'passed');

-- Every expectation evaluated by the gate, per batch.
create table audit.dq_results (
    batch_id            text not null references audit.batches (batch_id),
    suite_name          text not null,
    expectation_type    text not null,
    column_name         text not null default '',
    kwargs              jsonb not null,
    success             boolean not null,
    observed_value      jsonb,
    unexpected_count    bigint,
    unexpected_examples jsonb,
    validated_at        timestamptz not null default now(),
    primary key (batch_id, suite_name, expectation_type, column_name, kwargs)
);

-- One row per stage of every pipeline run and business date.
create table audit.pipeline_runs (
    run_id          text not null,
    business_date   date not null,
    stage           text not null,
    status          text not null check (status in ('running', 'succeeded', 'failed', 'skipped')),
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    detail          jsonb,
    primary key (run_id, business_date, stage)
);

-- Batches held back by the gate or the loader: the file bytes are kept, so nothing is ever lost.
create table quarantine.batches (
    batch_id        text primary key references audit.batches (batch_id),
    source          text not null,
    business_date   date not null,
    file_name       text not null,
    file_content    bytea not null,
    reason          text not null,          -- 'landing_contract' or 'expectations'
    failures        jsonb not null,         -- what failed: file, line, rule, expectation, examples
    quarantined_at  timestamptz not null default now(),
    released_at     timestamptz,
    released_by     text,
    release_note    text
);
