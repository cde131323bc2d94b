"""The alert lifecycle on hand-made alert series: one case per entity and indicator while the condition holds,
severity and last-seen following the latest day, auto-resolution, and people's actions with who and why."""

from __future__ import annotations

import datetime as dt

import psycopg2
import psycopg2.errors
import pytest

from warning_models.alerts.actions import act
from warning_models.alerts.lifecycle import (
    CASE_COLUMNS,
    Action,
    ActionKind,
    DailyAlert,
    LifecycleConfig,
    Status,
    derive_cases,
    extend_cases,
    refresh_cases,
    stored_cases,
)
from warning_models.errors import AlertActionError

D = dt.date(2025, 3, 3)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def alert(n: int, severity: str = "medium", entity: str = "L1", indicator: str = "credit_pd_logit") -> DailyAlert:
    return DailyAlert(f"{indicator}:{entity}:{day(n)}", day(n), "credit", "loan", entity, indicator,
                      0.1 * n, 0.05, severity, f"day {n}")


def action(case_id: str, kind: ActionKind, n: int, note: str = "why", until: dt.date | None = None) -> Action:
    return Action(case_id, kind, "ana", dt.datetime(2025, 3, 3, 9, tzinfo=dt.timezone.utc) + dt.timedelta(days=n),
                  day(n), note, until)


CONFIG = LifecycleConfig(auto_resolve_after_days=3)


def test_one_case_per_entity_and_indicator_with_the_latest_severity() -> None:
    alerts = [alert(0), alert(1), alert(2, "high"), alert(3, "medium"), alert(1, entity="L2")]
    cases = derive_cases(alerts, [], day(3), CONFIG)
    assert [(c.entity_id, c.first_seen_date, c.last_seen_date, c.alerted_days) for c in cases] == [
        ("L1", day(0), day(3), 4), ("L2", day(1), day(1), 1)
    ]
    l1, l2 = cases
    assert (l1.status, l1.severity, l1.max_severity, l1.is_escalated, l1.explanation) == (
        Status.OPEN, "medium", "high", False, "day 3"
    )
    assert l2.status is Status.OPEN  # seen on day 1 only, 2 clear days < 3
    assert derive_cases(alerts, [], day(2), CONFIG)[0].is_escalated  # on day 2 it had just risen to high
    assert derive_cases([alert(3)], [], day(3), CONFIG)[0].status is Status.NEW


def test_a_case_resolves_itself_after_the_clear_days_and_a_later_alert_opens_a_new_one() -> None:
    alerts = [alert(0), alert(3)]  # 2 clear days between: still one case
    assert len(derive_cases(alerts, [], day(3), CONFIG)) == 1
    alerts = [alert(0), alert(4)]  # 3 clear days: resolved on day 3, day 4 is a new case
    first, second = derive_cases(alerts, [], day(4), CONFIG)
    assert (first.status, first.resolved_date, first.resolution) == (Status.RESOLVED, day(3), "condition cleared for 3 day(s)")
    assert (second.status, second.first_seen_date) == (Status.NEW, day(4))
    # auto-resolution off: one case, open
    [only] = derive_cases(alerts, [], day(9), LifecycleConfig(auto_resolve_after_days=0))
    assert only.status is Status.OPEN and only.alerted_days == 2


def test_people_acknowledge_suppress_and_resolve_with_who_and_why() -> None:
    alerts = [alert(n) for n in range(6)]
    cid = "credit_pd_logit:L1:" + day(0).isoformat()
    acks = [action(cid, ActionKind.ACKNOWLEDGE, 1, "calling the borrower")]
    [c] = derive_cases(alerts, acks, day(2), CONFIG)
    assert (c.status, c.acknowledged_by, c.last_action_note) == (Status.ACKNOWLEDGED, "ana", "calling the borrower")
    suppressed = acks + [action(cid, ActionKind.SUPPRESS, 2, "restructuring agreed", until=day(3))]
    assert derive_cases(alerts, suppressed, day(3), CONFIG)[0].status is Status.SUPPRESSED
    assert derive_cases(alerts, suppressed, day(4), CONFIG)[0].status is Status.ACKNOWLEDGED  # the suppression ended
    lifted = suppressed[:1] + [action(cid, ActionKind.SUPPRESS, 2, "x"), action(cid, ActionKind.UNSUPPRESS, 3, "y")]
    assert derive_cases(alerts, lifted, day(3), CONFIG)[0].status is Status.ACKNOWLEDGED
    # resolved on day 3: days 4 and 5 are a new case of their own
    resolved = acks + [action(cid, ActionKind.RESOLVE, 3, "paid in full")]
    first, second = derive_cases(alerts, resolved, day(5), CONFIG)
    assert (first.status, first.last_seen_date, first.resolution) == (Status.RESOLVED, day(3), "paid in full")
    assert (second.status, second.first_seen_date, second.acknowledged_by) == (Status.OPEN, day(4), None)
    # an action dated after as_of does not count yet
    assert derive_cases(alerts, resolved, day(2), CONFIG)[0].status is Status.ACKNOWLEDGED


def test_the_cases_do_not_depend_on_the_order_the_alerts_come_in() -> None:
    alerts = [alert(n, "high" if n % 2 else "low") for n in range(5)] + [alert(2, entity="L9")]
    a = derive_cases(alerts, [], day(4), CONFIG)
    assert [c.row() for c in a] == [c.row() for c in derive_cases(list(reversed(alerts)), [], day(4), CONFIG)]
    assert a[0].is_escalated is False and a[0].severity == "low" and a[0].max_severity == "high"


# ------------------------------------------------------------------------------------------------ in the warehouse


def _insert_alerts(conn: psycopg2.extensions.connection, alerts: list[DailyAlert]) -> None:
    with conn.cursor() as cur:
        for a in alerts:
            cur.execute(
                """insert into warning.alerts (alert_id, as_of_date, domain, entity_type, entity_id, indicator, value,
                   threshold, severity, explanation) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (a.alert_id, a.as_of_date, a.domain, a.entity_type, a.entity_id, a.indicator, a.value, a.threshold,
                 a.severity, a.explanation),
            )


def test_actions_are_recorded_append_only_and_checked(warehouse: str) -> None:
    with psycopg2.connect(warehouse) as conn:
        _insert_alerts(conn, [alert(0), alert(1), alert(2, "high")])
        cases = refresh_cases(conn, CONFIG)
        assert [(c.status, c.severity) for c in cases] == [(Status.OPEN, "high")]
        with pytest.raises(AlertActionError, match="needs a note"):
            act(conn, "L1", ActionKind.ACKNOWLEDGE, "ana", " ", config=CONFIG)
        with pytest.raises(AlertActionError, match="cannot unsuppress a case that is open"):
            act(conn, "L1", ActionKind.UNSUPPRESS, "ana", "x", config=CONFIG)
        with pytest.raises(AlertActionError, match="no case matches"):
            act(conn, "L7", ActionKind.ACKNOWLEDGE, "ana", "x", config=CONFIG)
        case = act(conn, "L1", ActionKind.ACKNOWLEDGE, "ana", "calling the borrower", config=CONFIG)
        assert (case.status, case.acknowledged_by) == (Status.ACKNOWLEDGED, "ana")
        case = act(conn, "L1", ActionKind.RESOLVE, "bo", "restructured", config=CONFIG)
        assert (case.status, case.resolution, case.last_action_by) == (Status.RESOLVED, "restructured", "bo")
        with pytest.raises(AlertActionError, match="cannot acknowledge a case that is resolved"):
            act(conn, "L1", ActionKind.ACKNOWLEDGE, "ana", "x", config=CONFIG)
        with conn.cursor() as cur:
            cur.execute("select status, resolution from warning.alert_cases")
            assert cur.fetchall() == [("resolved", "restructured")]
            cur.execute("select action, acted_by, note from warning.alert_actions order by action_id")
            assert cur.fetchall() == [("acknowledge", "ana", "calling the borrower"), ("resolve", "bo", "restructured")]
        conn.commit()
        with pytest.raises(psycopg2.errors.RaiseException, match="append-only"), conn.cursor() as cur:
            cur.execute("update warning.alert_actions set note = 'rewritten'")
        conn.rollback()
        # a new alert after the resolution opens a new case, and rebuilding changes nothing
        _insert_alerts(conn, [alert(3, "high")])
        first = [c.row() for c in refresh_cases(conn, CONFIG)]
        assert [c[5] for c in first] == ["resolved", "new"]
        assert [c.row() for c in refresh_cases(conn, CONFIG)] == first


def test_the_cli_lists_the_most_urgent_cases_first_and_records_actions(
    warehouse: str, tmp_path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    from warning_models.cli import main

    monkeypatch.setenv("EWS_DATABASE_URL", warehouse)
    monkeypatch.setenv("EWS_HOME", str(tmp_path))
    with psycopg2.connect(warehouse) as conn:
        _insert_alerts(conn, [alert(1, "low", entity="L1"), alert(0, "high", entity="L2"), alert(1, "medium", entity="L3")])
    assert main(["alerts", "list", "--limit", "1"]) == 0
    listed = capsys.readouterr().out
    assert "L2" in listed and "L1" not in listed and "L3" not in listed  # high first, whatever its last day
    assert main(["alerts", "ack", "L2", "--note", "on it", "--by", "ana"]) == 0
    assert "acknowledged (by ana: on it)" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse: --note is required
        main(["alerts", "resolve", "L2"])
    assert "--note" in capsys.readouterr().err
    assert main(["alerts", "show", "L2"]) == 0
    shown = capsys.readouterr().out
    assert "acknowledge by ana" in shown and "status        acknowledged" in shown


def _stored_rows(conn: psycopg2.extensions.connection) -> list[tuple]:  # type: ignore[type-arg]
    """The stored cases, a resolved case's as_of_date aside (it keeps the day it was last settled)."""
    at = CASE_COLUMNS.index("as_of_date")
    status = CASE_COLUMNS.index("status")
    rows = [c.row() for c in stored_cases(conn)]
    return sorted(tuple(v for i, v in enumerate(r) if i != at or r[status] != "resolved") for r in rows)


def test_the_daily_extension_equals_a_rebuild_every_day(warehouse: str) -> None:
    """Day by day the stored cases go on with the day's alerts only, through gaps, escalations, auto-resolution,
    a suppression, an acknowledgement and a person's resolution followed by a new alert: every day they equal the
    cases rebuilt from every alert."""
    script = {  # day -> (alerts, actions taken that day after the run)
        0: ([alert(0), alert(0, entity="L3")], []),
        1: ([alert(1), alert(1, entity="L2"), alert(1, entity="L3")], []),
        2: ([alert(2, "high"), alert(2, entity="L2"), alert(2, entity="L3")], [("L3", ActionKind.ACKNOWLEDGE, None)]),
        3: ([alert(3), alert(3, entity="L2")], [("L2", ActionKind.SUPPRESS, day(4))]),
        4: ([alert(4, entity="L2"), alert(4, entity="L3")], [("L3", ActionKind.RESOLVE, None)]),
        5: ([alert(5, entity="L3")], []),
        8: ([alert(8), alert(8, "high", entity="L2")], []),
        9: ([alert(9)], []),
        13: ([alert(13, entity="L4")], []),
    }
    with psycopg2.connect(warehouse) as conn:
        for n, (alerts, actions) in script.items():
            _insert_alerts(conn, alerts)
            extend_cases(conn, day(n), CONFIG)
            for entity, kind, until in actions:
                act(conn, f"{entity}:", kind, "ana", f"day {n}", suppress_until=until, config=CONFIG)
            extended = _stored_rows(conn)
            refresh_cases(conn, CONFIG)
            assert extended == _stored_rows(conn), f"day {n}"
            conn.rollback()  # the rebuild undone: the next day extends what the extension stored
            _insert_alerts(conn, alerts)
            extend_cases(conn, day(n), CONFIG)
            for entity, kind, until in actions:
                act(conn, f"{entity}:", kind, "ana", f"day {n}", suppress_until=until, config=CONFIG)
            conn.commit()
        statuses = {c.entity_id + "@" + str(c.first_seen_date): c.status for c in stored_cases(conn)}
    assert statuses == {
        f"L1@{day(0)}": Status.RESOLVED, f"L1@{day(8)}": Status.RESOLVED, f"L2@{day(1)}": Status.RESOLVED,
        f"L2@{day(8)}": Status.RESOLVED, f"L3@{day(0)}": Status.RESOLVED, f"L3@{day(5)}": Status.RESOLVED,
        f"L4@{day(13)}": Status.NEW,
    }
