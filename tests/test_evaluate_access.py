"""The access evaluation on a hand-made case: which episodes count as caught, which alerts are false, the lead time
before the exfiltration and the user-day AUROC, all computed by hand."""

from __future__ import annotations

import datetime as dt

import psycopg2
import pytest

from warning_models.evaluate import ACCESS_INDICATOR, Episode, evaluate_access

D = dt.date(2025, 3, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def _insert(conn: psycopg2.extensions.connection, scores: dict[tuple[str, int], float], alerts: list[tuple[str, int]]) -> None:
    with conn.cursor() as cur:
        for (user, n), value in scores.items():
            cur.execute(
                "insert into warning.indicator_values (as_of_date, domain, indicator, entity_type, entity_id, value) "
                "values (%s, 'access', %s, 'user', %s, %s)",
                (day(n), ACCESS_INDICATOR, user, value),
            )
        for user, n in alerts:
            cur.execute(
                "insert into warning.alerts (alert_id, as_of_date, domain, entity_type, entity_id, indicator, value, "
                "threshold, severity, explanation) values (%s, %s, 'access', 'user', %s, %s, 90, 60, 'high', 'x')",
                (f"{user}:{n}", day(n), user, ACCESS_INDICATOR),
            )


def test_access_evaluation_by_hand(warehouse: str) -> None:
    # U1: episode days 3-6, exfiltration on day 5, alerted on days 4 and 6 -> caught, lead 1 day
    # U2: episode days 7-8, exfiltration day 8, never alerted -> missed
    # U3: no episode, alerted on day 2 -> a false alarm; U1's alert on day 1 (before its onset) -> a false alarm
    episodes = [
        Episode("access-U1", "access", "U1", day(3), day(5), day(6)),
        Episode("access-U2", "access", "U2", day(7), day(8), day(8)),
    ]
    scores: dict[tuple[str, int], float] = {}
    for n in range(10):
        scores[("U1", n)] = 80.0 if 3 <= n <= 6 else 5.0 + n  # episode days score high
        scores[("U2", n)] = 30.0 if n in (7, 8) else 1.0  # episode days above U2's other days, below U1's
        scores[("U3", n)] = 70.0 if n == 2 else 2.0  # U3's false day outranks U2's episode days
    scores[("U1", 1)] = 65.0
    alerts = [("U1", 1), ("U1", 4), ("U1", 6), ("U3", 2)]
    with psycopg2.connect(warehouse) as conn:
        _insert(conn, scores, alerts)
        result = evaluate_access(conn, episodes, (day(0), day(9)))
    assert (result.episodes, result.detected) == (2, 1)
    assert result.recall_pct == 50.0
    assert result.false_alarms == 2 and result.entity_days == 30
    assert result.false_alarms_per_1000 == pytest.approx(1000 * 2 / 30)
    assert result.lead_days == (1,) and result.median_lead_days == 1.0
    # AUROC by hand: 6 positives (U1 days 3-6 at 80, U2 days 7-8 at 30), 24 negatives. Each U1 positive outranks
    # all 24; each U2 positive (30) outranks every negative but U3's day 2 (70) and U1's day 1 (65): 22 of 24.
    assert result.auroc == pytest.approx((4 * 24 + 2 * 22) / (6 * 24))
    assert dict(result.detail)["missed"] == ["access-U2"]


def test_an_episode_over_before_scoring_began_is_not_counted(warehouse: str) -> None:
    episodes = [Episode("access-U1", "access", "U1", day(0), day(1), day(1)),
                Episode("access-U2", "access", "U2", day(5), day(6), day(6))]
    scores = {(u, n): 1.0 for u in ("U1", "U2") for n in range(3, 10)}
    with psycopg2.connect(warehouse) as conn:
        _insert(conn, scores, [("U2", 5)])
        result = evaluate_access(conn, episodes, (day(0), day(9)))
    assert (result.episodes, result.detected, result.false_alarms) == (1, 1, 0)
    assert result.lead_days == (1,)
