-- Credit risk in depth (issue 4): the PD scorecard's bins and features per model run, validation figures and
-- calibration bands of any model run, each loan's daily PD, points and IFRS 9 stage, and portfolio forecasts.
-- Every table hangs off warning.model_runs (on delete cascade), so republishing a day replaces all of it.

-- Validation and monitoring figures of a model run, by sample: 'train' (in sample), 'holdout' (out of time),
-- 'backtest' (scores published one horizon ago against what happened since), 'today' (drift of today's
-- population against training). One row per run, sample and metric (auc, gini, ks, brier, hl_statistic, ...).
create table warning.model_validations (
    model_run_id    text not null references warning.model_runs (model_run_id) on delete cascade,
    sample          text not null check (sample in ('train', 'holdout', 'backtest', 'today')),
    metric          text not null,
    value           double precision,
    primary key (model_run_id, sample, metric)
);

-- Observed against predicted default rate in equal-count PD bands (the Hosmer-Lemeshow groups).
create table warning.calibration_bands (
    model_run_id            text not null references warning.model_runs (model_run_id) on delete cascade,
    sample                  text not null check (sample in ('train', 'holdout', 'backtest')),
    band                    integer not null,         -- 1 = lowest PD
    loans_count             integer not null,
    defaults_count          integer not null,
    mean_pd                 double precision not null,
    observed_default_rate   double precision not null,
    min_pd                  double precision not null,
    max_pd                  double precision not null,
    primary key (model_run_id, sample, band)
);

-- Every candidate feature of a scorecard: information value, whether it is in the Logit, its coefficient on
-- the WoE scale, and its population stability today against training.
create table warning.scorecard_features (
    model_run_id        text not null references warning.model_runs (model_run_id) on delete cascade,
    feature             text not null,
    information_value   double precision not null,
    in_model            boolean not null,
    coefficient         double precision,
    psi                 double precision,
    psi_status          text check (psi_status in ('stable', 'watch', 'shifted')),
    primary key (model_run_id, feature)
);

-- The bins of each feature: range, training counts, weight of evidence, and today's share of loans.
create table warning.scorecard_bins (
    model_run_id        text not null references warning.model_runs (model_run_id) on delete cascade,
    feature             text not null,
    bin_index           integer not null,         -- -1 = missing values
    bin_label           text not null,
    training_loans_count integer not null,
    training_defaults_count integer not null,
    woe                 double precision not null,
    points              double precision,         -- points of this bin (features in the model)
    today_loans_count   integer,
    primary key (model_run_id, feature, bin_index)
);

-- Each live or defaulted loan on each as-of date: PD, score points, IFRS 9 stage and why, and the stage before.
create table warning.credit_loan_days (
    as_of_date          date not null,
    loan_id             text not null,
    borrower_id         text not null,
    segment             text not null,
    days_past_due       integer not null,
    delinquency_bucket  text not null,
    pd                  double precision,         -- null for defaulted loans (stage 3)
    score_points        double precision,
    origination_pd      double precision,         -- the loan's first PD: the reference of a significant increase
    stage               smallint not null check (stage in (1, 2, 3)),
    stage_reason        text not null,
    previous_stage      smallint check (previous_stage in (1, 2, 3)),
    model_run_id        text not null references warning.model_runs (model_run_id) on delete cascade,
    primary key (as_of_date, loan_id)
);
create index credit_loan_days_by_loan on warning.credit_loan_days (loan_id, as_of_date);

-- Stage migrations: the days a loan's stage changed.
create view warning.credit_stage_migrations as
select as_of_date, loan_id, borrower_id, segment, previous_stage as from_stage, stage as to_stage, stage_reason,
       pd, origination_pd, days_past_due, model_run_id
from warning.credit_loan_days
where previous_stage is not null and previous_stage <> stage;

-- NPL ratio forecasts 1-3 months ahead, per method and segment, with prediction intervals.
create table warning.npl_forecasts (
    model_run_id        text not null references warning.model_runs (model_run_id) on delete cascade,
    as_of_date          date not null,
    method              text not null,            -- markov_roll_rate, arima
    segment             text not null,
    horizon_months      integer not null,
    target_date         date not null,
    npl_ratio_pct       double precision not null,
    lower_pct           double precision,
    upper_pct           double precision,
    threshold_pct       double precision not null,
    primary key (model_run_id, method, segment, horizon_months)
);

-- Evaluations carry the AUROC of the scores and what an entity-period is.
alter table warning.evaluation_results
    add column auroc double precision,
    add column entity_period text not null default 'entity-day',
    add column min_lead_days integer not null default 0;
