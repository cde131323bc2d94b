"""What people do to a case: acknowledge, resolve, suppress (until a date, or until lifted), lift a suppression.

Each action is recorded with who, when and why in ``warning.alert_actions`` (append-only) and takes effect on the
latest business date; the case settles at once.
"""

from __future__ import annotations

import datetime as dt

import psycopg2.extensions

from warning_models.alerts.lifecycle import (
    ActionKind,
    Case,
    LifecycleConfig,
    Status,
    cases_as_of,
    latest_business_date,
    settle_case,
)
from warning_models.errors import AlertActionError

# which statuses each action may be taken from
ALLOWED_FROM: dict[ActionKind, tuple[Status, ...]] = {
    ActionKind.ACKNOWLEDGE: (Status.NEW, Status.OPEN),
    ActionKind.RESOLVE: (Status.NEW, Status.OPEN, Status.ACKNOWLEDGED, Status.SUPPRESSED),
    ActionKind.SUPPRESS: (Status.NEW, Status.OPEN, Status.ACKNOWLEDGED),
    ActionKind.UNSUPPRESS: (Status.SUPPRESSED,),
}


def find_case(cases: list[Case], case_ref: str) -> Case:
    """The case named by its id, or by a part of it that names one case."""
    exact = [c for c in cases if c.case_id == case_ref]
    found = exact or [c for c in cases if case_ref in c.case_id]
    if not found:
        raise AlertActionError(case_ref, "no case matches; see `ews alerts list --all`")
    if len(found) > 1:
        raise AlertActionError(case_ref, f"matches {len(found)} cases: {', '.join(c.case_id for c in found[:5])}")
    return found[0]


def act(
    conn: psycopg2.extensions.connection,
    case_ref: str,
    action: ActionKind,
    by: str,
    note: str,
    *,
    suppress_until: dt.date | None = None,
    config: LifecycleConfig | None = None,
) -> Case:
    """Record the action on the case and return the case as it now stands."""
    config = config or LifecycleConfig.from_env()
    as_of = latest_business_date(conn)
    if as_of is None:
        raise AlertActionError(case_ref, "no alerts yet")
    case = find_case(cases_as_of(conn, as_of, config), case_ref)
    if not note.strip():
        raise AlertActionError(case.case_id, f"{action.value} needs a note: why (--note)")
    if not by.strip():
        raise AlertActionError(case.case_id, f"{action.value} needs who (--by)")
    if case.status not in ALLOWED_FROM[action]:
        raise AlertActionError(case.case_id, f"cannot {action.value} a case that is {case.status.value}")
    if action is ActionKind.SUPPRESS and suppress_until is not None and suppress_until < as_of:
        raise AlertActionError(case.case_id, f"--until {suppress_until} is before the latest business date {as_of}")
    if action is not ActionKind.SUPPRESS and suppress_until is not None:
        raise AlertActionError(case.case_id, "--until goes with suppress only")
    with conn.cursor() as cur:
        cur.execute(
            """insert into warning.alert_actions (case_id, action, acted_by, effective_date, note, suppress_until)
               values (%s, %s, %s, %s, %s, %s)""",
            (case.case_id, action.value, by, as_of, note, suppress_until),
        )
    return settle_case(conn, case.case_id, config)
