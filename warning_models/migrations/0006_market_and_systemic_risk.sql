-- Market and systemic risk in depth: price history, trading-book positions and crisis dates land in raw;
-- VaR forecasts, their backtests, regime probabilities, real-time credit gaps, signal thresholds and the
-- logit early-warning model's probabilities live in warning, each row tied to the model run that made it.

create table raw.market_price_history (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    instrument_id text,
    price_date date,
    close_price numeric,
    primary key (batch_id, source_line)
);
create index raw_market_price_history_by_key on raw.market_price_history (instrument_id, price_date);

create table raw.portfolio_positions (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    portfolio_id text,
    instrument_id text,
    position_date date,
    quantity numeric,
    primary key (batch_id, source_line)
);
create index raw_portfolio_positions_by_key on raw.portfolio_positions (portfolio_id, instrument_id, position_date);

create table raw.macro_crises (
    batch_id text not null references audit.batches (batch_id),
    source_line integer not null,
    economy_code text,
    crisis_start_date date,
    crisis_end_date date,
    primary key (batch_id, source_line)
);

-- Out-of-sample results of the systemic models sit beside the credit ones.
alter table warning.model_validations drop constraint model_validations_sample_check;
alter table warning.model_validations add constraint model_validations_sample_check
    check (sample in ('train', 'holdout', 'backtest', 'today', 'out_of_sample'));

-- One-day VaR and ES per instrument or portfolio, method and confidence level: the forecast made at the
-- close of the run's as-of day for the next trading day, and how the forecast made the trading day before
-- turned out on the as-of day (the daily exception record).
create table warning.market_var_days (
    model_run_id            text not null references warning.model_runs (model_run_id) on delete cascade,
    entity_type             text not null check (entity_type in ('instrument', 'portfolio')),
    entity_id               text not null,
    method                  text not null check (method in ('historical', 'filtered_historical', 'parametric')),
    confidence_pct          double precision not null,
    price_date              date not null,             -- last close used: the forecast is for the next trading day
    var_pct                 double precision,          -- loss as a positive % of value
    es_pct                  double precision,
    var_amount              double precision,          -- portfolios: VaR in currency at the day's market value
    ewma_vol_pct            double precision,          -- EWMA (lambda 0.94) daily volatility forecast, %
    previous_var_pct        double precision,          -- the forecast for price_date made the trading day before
    realised_return_pct     double precision,          -- simple return on price_date
    is_exception            boolean,                   -- realised loss beyond previous_var_pct
    primary key (model_run_id, entity_type, entity_id, method, confidence_pct)
);

-- The backtest over the trailing window (250 trading days), recomputed from the prices each run.
create table warning.var_backtests (
    model_run_id                text not null references warning.model_runs (model_run_id) on delete cascade,
    entity_type                 text not null check (entity_type in ('instrument', 'portfolio')),
    entity_id                   text not null,
    method                      text not null,
    confidence_pct              double precision not null,
    window_start_date           date not null,
    window_end_date             date not null,
    observations_count          integer not null,
    exceptions_count            integer not null,
    expected_exceptions         double precision not null,
    kupiec_lr                   double precision,
    kupiec_p_value              double precision,
    independence_lr             double precision,
    independence_p_value        double precision,
    conditional_coverage_lr     double precision,
    conditional_coverage_p_value double precision,
    traffic_light_zone          text check (traffic_light_zone in ('green', 'yellow', 'red')),
    traffic_light_cumulative_probability double precision,
    plus_factor                 double precision,
    max_exceptions_10_days      integer,
    primary key (model_run_id, entity_type, entity_id, method, confidence_pct)
);

-- Daily probability of the high-variance regime over the fitted window. filtered uses returns up to the
-- day only (what was knowable: alerts read it); smoothed uses the whole window (hindsight, for analysis).
create table warning.market_regime_days (
    model_run_id                text not null references warning.model_runs (model_run_id) on delete cascade,
    price_date                  date not null,
    index_log_return_pct        double precision not null,
    filtered_high_prob          double precision not null,
    smoothed_high_prob          double precision not null,
    primary key (model_run_id, price_date)
);

-- Real-time (one-sided) credit-to-GDP gap per economy and quarter as known on the run's as-of day.
create table warning.credit_gap_quarters (
    model_run_id            text not null references warning.model_runs (model_run_id) on delete cascade,
    economy_code            text not null,
    period_end_date         date not null,
    published_date          date not null,
    credit_to_gdp_pct       double precision not null,
    trend_pct               double precision,          -- one-sided HP trend (lambda 400,000)
    gap_pp                  double precision,
    buffer_guide_pct        double precision,          -- Basel countercyclical buffer guide, % of RWA
    primary key (model_run_id, economy_code, period_end_date)
);

-- Signals approach: per indicator and criterion, the threshold chosen over the pre-crisis horizon.
create table warning.signal_thresholds (
    model_run_id            text not null references warning.model_runs (model_run_id) on delete cascade,
    indicator_name          text not null,
    criterion               text not null check (criterion in ('noise_to_signal', 'relative_usefulness')),
    direction               text not null check (direction in ('above', 'below')),
    threshold_value         double precision,
    theta                   double precision not null,
    true_positives_count    integer not null,
    false_positives_count   integer not null,
    false_negatives_count   integer not null,
    true_negatives_count    integer not null,
    noise_to_signal_ratio   double precision,
    relative_usefulness     double precision,
    auroc                   double precision,
    primary key (model_run_id, indicator_name, criterion)
);

-- Per economy and quarter: the logit early-warning probability, the composite stress index, the signals
-- firing, and the quarter's label (for the record: null when its outcome was not known on the as-of day).
create table warning.systemic_risk_quarters (
    model_run_id            text not null references warning.model_runs (model_run_id) on delete cascade,
    economy_code            text not null,
    period_end_date         date not null,
    crisis_probability      double precision,
    stress_index            double precision,
    signals_firing_count    integer not null,
    signals_firing          text not null,            -- comma-separated indicator names
    pre_crisis              integer,
    exclusion_reason        text,
    primary key (model_run_id, economy_code, period_end_date)
);
