-- What the early-warning models write: their runs, indicator history, alerts, evaluations.

-- One row per fit (or reuse) of a model for an as-of date.
create table warning.model_runs (
    model_run_id    text primary key,       -- <indicator>:<as_of_date>
    indicator       text not null,
    domain          text not null check (domain in ('credit', 'market', 'macro', 'access', 'data_quality')),
    as_of_date      date not null,
    model_class     text not null,          -- e.g. statsmodels.discrete.discrete_model.Logit
    training_start  date,
    training_end    date,
    n_obs           integer not null,
    params          jsonb not null,         -- coefficients or settings
    fit_stats       jsonb not null,         -- log-likelihood, AIC, pseudo R2, convergence
    data_hash       text not null,          -- sha256 of the training data
    fitted_at       timestamptz not null default now(),
    unique (indicator, as_of_date)
);

-- History of every indicator value, one row per as-of date, indicator and entity.
create table warning.indicator_values (
    as_of_date      date not null,
    domain          text not null,
    indicator       text not null,
    entity_type     text not null,
    entity_id       text not null,
    value           double precision not null,
    threshold       double precision,
    model_run_id    text references warning.model_runs (model_run_id) on delete cascade,
    primary key (as_of_date, indicator, entity_id)
);

-- Alerts: indicator values that crossed their threshold, with why.
create table warning.alerts (
    alert_id        text primary key,       -- <indicator>:<entity_id>:<as_of_date>
    as_of_date      date not null,
    domain          text not null check (domain in ('credit', 'market', 'macro', 'access', 'data_quality')),
    entity_type     text not null,
    entity_id       text not null,
    indicator       text not null,
    value           double precision not null,
    threshold       double precision not null,
    severity        text not null check (severity in ('low', 'medium', 'high')),
    explanation     text not null,
    model_run_id    text references warning.model_runs (model_run_id) on delete cascade,
    created_at      timestamptz not null default now()
);
create index alerts_by_day on warning.alerts (as_of_date, domain);

-- Alerts measured against the ground truth of known episodes (`ews evaluate`).
create table warning.evaluation_results (
    evaluation_id       text not null,
    domain              text not null,
    episodes            integer not null,
    episodes_detected   integer not null,
    recall_pct          double precision,
    false_alarms        integer not null,
    entity_periods      bigint not null,
    false_alarms_per_1000 double precision,
    median_lead_days    double precision,
    evaluated_at        timestamptz not null default now(),
    detail              jsonb,
    primary key (evaluation_id, domain)
);
