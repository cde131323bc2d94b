-- Raw landing tables: the contract's columns, typed, plus where each row came from.
-- Only the loader writes here; dbt staging reads rows of batches that passed the gate.
create table raw.borrowers (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    borrower_id text,
    institution_id text,
    full_name text,
    national_id text,
    birth_date date,
    region text,
    segment text,
    annual_income_amount numeric,
    onboarded_date date,
    primary key (batch_id, source_line)
);

create table raw.loans (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    loan_id text,
    borrower_id text,
    product text,
    origination_date date,
    principal_amount numeric,
    interest_rate_pct numeric,
    term_months bigint,
    primary key (batch_id, source_line)
);

create table raw.loan_performance (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    loan_id text,
    performance_date date,
    balance_amount numeric,
    days_past_due bigint,
    primary key (batch_id, source_line)
);

create table raw.repayments (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    repayment_id text,
    loan_id text,
    due_date date,
    due_amount numeric,
    paid_amount numeric,
    primary key (batch_id, source_line)
);

create table raw.market_prices (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    instrument_id text,
    price_date date,
    close_price numeric,
    primary key (batch_id, source_line)
);

create table raw.macro_series (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    series_id text,
    period_end_date date,
    value numeric,
    primary key (batch_id, source_line)
);

create table raw.access_events (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    event_id text,
    event_at timestamptz,
    user_id text,
    client_ip text,
    action text,
    object_name text,
    rows_read bigint,
    primary key (batch_id, source_line)
);
