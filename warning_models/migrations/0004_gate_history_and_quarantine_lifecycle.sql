-- What the authenticity gate needs beyond the landing contract: control totals, the market calendar in SQL,
-- indexes for history lookups; and the quarantine lifecycle (release, replay) kept as an append-only record.

-- Control totals an extract job may deliver next to its file (<date>.ctl.json): row count and column sums.
create table audit.batch_controls (
    batch_id        text primary key references audit.batches (batch_id),
    file_name       text not null,
    row_count       integer not null,
    sums            jsonb not null default '{}'::jsonb   -- column name -> decimal string
);

-- The synthetic market's trading calendar (warning_models.contract.is_trading_day; a test keeps them equal).
create function audit.is_trading_day(day date) returns boolean
language sql immutable parallel safe as $$
    select extract(isodow from day) < 6
       and to_char(day, 'MM-DD') not in ('01-01', '12-25', '12-26')
$$;

-- A correction waits for the gate next to the day's passed batch and supersedes it only when it passes:
-- at most one passed and one pending ('loaded') batch per source and business date.
drop index audit.batches_one_live_per_day;
create unique index batches_one_passed_per_day on audit.batches (source, business_date) where status = 'passed';
create unique index batches_one_pending_per_day on audit.batches (source, business_date) where status = 'loaded';

-- History lookups of the gate (by key across batches) and the loader's deletes by batch.
create index batches_by_source_day on audit.batches (source, business_date, status);
create index raw_borrowers_by_key on raw.borrowers (borrower_id);
create index raw_loans_by_key on raw.loans (loan_id);
create index raw_loan_performance_by_key on raw.loan_performance (loan_id, performance_date);
create index raw_repayments_by_loan on raw.repayments (loan_id, due_date);
create index raw_market_prices_by_key on raw.market_prices (instrument_id, price_date);
create index raw_macro_series_by_key on raw.macro_series (series_id, period_end_date);

-- Severity of each stored expectation result: 'block' failures quarantine a batch, 'warn' failures raise alerts.
alter table audit.dq_results add column check_name text;
alter table audit.dq_results add column severity text check (severity in ('block', 'warn'));

-- Every action taken on a quarantined batch. Rows are only ever added.
create table quarantine.actions (
    action_id       bigint generated always as identity primary key,
    batch_id        text not null references quarantine.batches (batch_id),
    action          text not null check (action in ('quarantined', 'released', 'replayed')),
    acted_at        timestamptz not null default now(),
    acted_by        text not null,
    note            text,
    outcome         jsonb                 -- replay: the batch that was gated and whether it passed
);
create index actions_by_batch on quarantine.actions (batch_id, acted_at);
