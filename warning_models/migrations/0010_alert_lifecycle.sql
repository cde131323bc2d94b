-- The alert lifecycle (docs/alerts.md): the daily alerts of one entity and indicator become one case that is new,
-- open, acknowledged, resolved or suppressed; people act on cases; notifications go out once per case state.

-- What people did to a case, never updated or deleted: who, when, why. The case's state is derived from the daily
-- alerts and these actions (warning_models.alerts.lifecycle), so a rerun of any day gives the same cases.
create table warning.alert_actions (
    action_id       bigint generated always as identity primary key,
    case_id         text not null,              -- warning.alert_cases.case_id
    action          text not null check (action in ('acknowledge', 'resolve', 'suppress', 'unsuppress')),
    acted_by        text not null,
    acted_at        timestamptz not null default now(),
    effective_date  date not null,              -- the business date the action takes effect on
    note            text not null check (length(trim(note)) > 0),
    suppress_until  date                        -- suppress: the last business date it holds (null: until lifted)
);
create index alert_actions_by_case on warning.alert_actions (case_id, action_id);

-- One row per case as of the latest business date the indicators ran for, rebuilt after every run.
create table warning.alert_cases (
    case_id             text primary key,       -- <indicator>:<entity_id>:<first_seen_date>
    domain              text not null,
    indicator           text not null,
    entity_type         text not null,
    entity_id           text not null,
    status              text not null check (status in ('new', 'open', 'acknowledged', 'resolved', 'suppressed')),
    severity            text not null check (severity in ('low', 'medium', 'high')),  -- on the last alerted day
    max_severity        text not null check (max_severity in ('low', 'medium', 'high')),
    is_escalated        boolean not null,       -- severity rose on the last alerted day
    first_seen_date     date not null,
    last_seen_date      date not null,
    alerted_days        integer not null,
    value               double precision not null,  -- on the last alerted day
    threshold           double precision not null,
    explanation         text not null,              -- of the last alerted day
    latest_alert_id     text not null,
    as_of_date          date not null,              -- the business date this state is for
    resolved_date       date,
    resolution          text,                       -- 'condition cleared for N days' or the person's note
    acknowledged_by     text,
    acknowledged_at     timestamptz,
    suppressed_until    date,
    last_action_by      text,
    last_action_note    text,
    unique (indicator, entity_id, first_seen_date)
);
create index alert_cases_by_status on warning.alert_cases (status, domain);

-- Notifications sent: one per case and state, so nothing goes out twice.
create table warning.alert_notifications (
    case_id         text not null,
    state           text not null,                  -- e.g. 'high': the case reached high severity
    channel         text not null,                  -- 'email', 'webhook'
    sent_at         timestamptz not null default now(),
    run_id          text not null,
    primary key (case_id, state, channel)
);

-- The record of actions is append-only, whoever asks.
create function warning.refuse_changing_alert_actions() returns trigger
language plpgsql
as $$
begin
    raise exception 'warning.alert_actions is append-only: record a new action instead';
end
$$;
create trigger alert_actions_append_only
    before update or delete or truncate on warning.alert_actions
    for each statement execute function warning.refuse_changing_alert_actions();
