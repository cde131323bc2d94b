"""Access features as they were knowable on an as-of date: read from the dbt marts, never past ``as_of``.

``read_window`` returns the user-days and active user-hours of the trailing window (the baseline days and
``as_of``), the users' peer groups, and the sensitive objects each user touched for the first time on ``as_of``
with how many of their peers had touched each before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import psycopg2.extensions

from warning_models.indicators.base import read_frame, read_frame_by_copy

USER_DAYS_SQL = """
    select user_id, activity_date - %s::date as day_index, events_count, rows_read, off_hours_events_count,
           sensitive_object_events_count, export_count, new_ip_count, new_network_count,
           new_sensitive_object_count, max_session_failed_logins_count
    from marts.fct_user_days
    where activity_date between %s and %s
"""
USER_DAYS_TYPES = {
    "user_id": "str",
    "day_index": "int64",
    "events_count": "float64",
    "rows_read": "float64",
    "off_hours_events_count": "float64",
    "sensitive_object_events_count": "float64",
    "export_count": "float64",
    "new_ip_count": "float64",
    "new_network_count": "float64",
    "new_sensitive_object_count": "float64",
    "max_session_failed_logins_count": "float64",
}
USER_HOURS_SQL = """
    select user_id, activity_date - %s::date as day_index, hour_of_day, events_count
    from marts.fct_user_hours
    where activity_date between %s and %s
"""
USER_HOURS_TYPES = {"user_id": "str", "day_index": "int64", "hour_of_day": "int64", "events_count": "float64"}
# Peer groups as of the as-of date: a user first seen later is nobody's peer yet.
PEER_GROUPS_SQL = """
    select user_id, peer_group from marts.dim_access_users where first_event_date <= %s
"""
# Sensitive objects first touched on as_of, with the user's peers (same group, first seen by as_of) and how
# many of them had touched the object before as_of.
NEW_SENSITIVE_OBJECTS_SQL = """
    with peers as (
        select user_id, peer_group from marts.dim_access_users where first_event_date <= %(as_of)s
    ),
    new_objects as (
        select o.user_id, o.object_name, p.peer_group
        from marts.dim_access_user_objects o
        join peers p using (user_id)
        where o.is_sensitive_object and o.first_seen_date = %(as_of)s
    )
    select n.user_id, n.object_name, n.peer_group,
           (select count(*) from peers q where q.peer_group = n.peer_group and q.user_id <> n.user_id) as peers,
           (select count(*) from marts.dim_access_user_objects o join peers q using (user_id)
             where q.peer_group = n.peer_group and q.user_id <> n.user_id and o.object_name = n.object_name
               and o.first_seen_date < %(as_of)s) as peers_using
    from new_objects n
    order by n.user_id, n.object_name
"""


@dataclass(frozen=True)
class AccessWindow:
    """What the access score reads for one as-of date. ``day_index`` counts from ``start`` (as_of = last)."""

    start: dt.date
    as_of: dt.date
    user_days: pd.DataFrame
    user_hours: pd.DataFrame
    peer_groups: pd.Series  # user_id -> peer group
    new_sensitive_objects: pd.DataFrame  # user_id, object_name, peer_group, peers, peers_using


def read_window(conn: psycopg2.extensions.connection, as_of: dt.date, baseline_days: int) -> AccessWindow:
    start = as_of - dt.timedelta(days=baseline_days)
    days = read_frame_by_copy(conn, USER_DAYS_SQL, (start, start, as_of), USER_DAYS_TYPES).fillna(0.0)
    days["dow"] = (days["day_index"] + start.weekday()) % 7
    hours = read_frame_by_copy(conn, USER_HOURS_SQL, (start, start, as_of), USER_HOURS_TYPES)
    groups = read_frame(conn, PEER_GROUPS_SQL, (as_of,))
    peer_groups = (
        pd.Series(groups["peer_group"].to_numpy(), index=groups["user_id"].to_numpy(), dtype=object)
        if len(groups) else pd.Series(dtype=object)
    )
    new_objects = read_frame(conn, NEW_SENSITIVE_OBJECTS_SQL, {"as_of": as_of})  # type: ignore[arg-type]
    if new_objects.empty:
        new_objects = pd.DataFrame(columns=["user_id", "object_name", "peer_group", "peers", "peers_using"])
    return AccessWindow(start, as_of, days, hours, peer_groups, new_objects)
