-- Access risk in depth: which signal moved for which user on which day, by how much, against which baseline.
-- The score itself is in warning.indicator_values (indicator access_activity_baseline); the alerts, within the
-- daily budget, in warning.alerts. Rows only for signals with a positive strength.

create table warning.access_signal_days (
    model_run_id    text not null references warning.model_runs (model_run_id) on delete cascade,
    as_of_date      date not null,
    user_id         text not null,
    signal          text not null check (signal in (
                        'events', 'rows_read', 'new_network', 'new_ip', 'off_hours', 'sensitive_objects',
                        'new_sensitive_object', 'exports', 'failed_login_burst')),
    observed        double precision not null,      -- the day's value (count, rows, burst size)
    expected        double precision,               -- the baseline's value for the day
    baseline        text not null,                  -- which baseline: model and window
    p_value         double precision,               -- tail probability (rows read: normal tail of the robust z)
    strength        double precision not null check (strength > 0 and strength <= 1),
    points          double precision not null,      -- weight x strength: the signal's part of the score
    primary key (model_run_id, user_id, signal)
);
create index access_signal_days_by_user on warning.access_signal_days (user_id, as_of_date);
