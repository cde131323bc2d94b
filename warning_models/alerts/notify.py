"""Notifications: the cases that reached high severity (new, or escalated) go out once, batched per run, by email
(Airflow's SMTP notifier) and to a webhook (a notifier of ours, JSON over HTTP POST).

A case is notified when its severity is high and it is new, open or acknowledged; suppressed and resolved cases
never are. ``warning.alert_notifications`` keeps one row per case, state and channel: a state is sent once, even
when the case drops to medium and rises again. A channel is used when it is configured:

EWS_ALERTS_EMAIL_TO          comma-separated recipients; the SMTP server is the Airflow connection
                             EWS_ALERTS_SMTP_CONN_ID (default ``smtp_default``), secrets in the connection
EWS_ALERTS_WEBHOOK_CONN_ID   an Airflow HTTP connection whose host (and schema, port, path) is the receiver;
                             or EWS_ALERTS_WEBHOOK_URL. A bearer token, if any, is the connection's password
"""

from __future__ import annotations

import html
import json
import os
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions
from airflow.sdk.bases.notifier import BaseNotifier

from warning_models.alerts.lifecycle import ACTIVE_STATUSES, Case, cases_as_of
from warning_models.errors import NotificationError

STATE_HIGH = "high"
EMAIL, WEBHOOK = "email", "webhook"


@dataclass(frozen=True)
class Channels:
    """Where notifications go; read from the environment (no secrets in it: those stay in Airflow connections)."""

    email_to: tuple[str, ...] = ()
    smtp_conn_id: str = "smtp_default"
    webhook_conn_id: str | None = None
    webhook_url: str | None = None
    from_email: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Channels":
        env = os.environ if environ is None else environ
        return cls(
            email_to=tuple(a.strip() for a in env.get("EWS_ALERTS_EMAIL_TO", "").split(",") if a.strip()),
            smtp_conn_id=env.get("EWS_ALERTS_SMTP_CONN_ID") or "smtp_default",
            webhook_conn_id=env.get("EWS_ALERTS_WEBHOOK_CONN_ID") or None,
            webhook_url=env.get("EWS_ALERTS_WEBHOOK_URL") or None,
            from_email=env.get("EWS_ALERTS_FROM_EMAIL") or None,
        )

    @property
    def names(self) -> list[str]:
        return ([EMAIL] if self.email_to else []) + ([WEBHOOK] if self.webhook_conn_id or self.webhook_url else [])


class WebhookNotifier(BaseNotifier):
    """POST a JSON document to an HTTP endpoint: an Airflow HTTP connection, or a URL."""

    template_fields = ()

    def __init__(self, payload: dict[str, Any], *, conn_id: str | None = None, url: str | None = None,
                 timeout_s: float = 10.0) -> None:
        super().__init__()
        if not conn_id and not url:
            raise ValueError("WebhookNotifier needs conn_id or url")
        self.payload, self.conn_id, self.url, self.timeout_s = payload, conn_id, url, timeout_s

    def _target(self) -> tuple[str, dict[str, str]]:
        headers = {"Content-Type": "application/json", "User-Agent": "ews-alerts"}
        if self.url:
            return self.url, headers
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(self.conn_id)  # type: ignore[arg-type]
        scheme = conn.schema or "http"
        port = f":{conn.port}" if conn.port else ""
        path = (conn.extra_dejson or {}).get("endpoint", "")
        if conn.password:
            headers["Authorization"] = f"Bearer {conn.password}"
        return f"{scheme}://{conn.host}{port}/{path.lstrip('/')}", headers

    def notify(self, context: Mapping[str, Any]) -> None:
        url, headers = self._target()
        request = urllib.request.Request(url, data=json.dumps(self.payload).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (the bank's own URL)
            if not 200 <= response.status < 300:
                raise NotificationError(WEBHOOK, f"{url} answered {response.status}")


def pending(conn: psycopg2.extensions.connection, channel: str, cases: Sequence[Case]) -> list[Case]:
    """The cases of high severity, new, open or acknowledged, not yet notified at high by this channel."""
    with conn.cursor() as cur:
        cur.execute("select case_id from warning.alert_notifications where state = %s and channel = %s",
                    (STATE_HIGH, channel))
        sent = {r[0] for r in cur.fetchall()}
    return [c for c in cases if c.severity == "high" and c.status in ACTIVE_STATUSES and c.case_id not in sent]


def _line(c: Case) -> str:
    change = "escalated to high" if c.is_escalated else ("new" if c.first_seen_date == c.last_seen_date else "high")
    return f"[{c.domain}] {c.entity_type} {c.entity_id}, {c.indicator} ({change}, since {c.first_seen_date})"


def email_html(cases: Sequence[Case], as_of: str) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.domain)}</td><td>{html.escape(c.entity_type)} {html.escape(c.entity_id)}</td>"
        f"<td>{html.escape(c.indicator)}</td><td>{'escalated' if c.is_escalated else c.status.value}</td>"
        f"<td>{c.first_seen_date}</td><td>{html.escape(c.explanation)}</td><td><code>{html.escape(c.case_id)}</code></td></tr>"
        for c in cases
    )
    return (
        f"<p>{len(cases)} alert case(s) reached high severity by {html.escape(as_of)}.</p>"
        "<table border='1' cellpadding='4' cellspacing='0'><tr><th>domain</th><th>entity</th><th>indicator</th>"
        f"<th>change</th><th>since</th><th>why</th><th>case</th></tr>{rows}</table>"
        "<p>Acknowledge with <code>ews alerts ack CASE --note ...</code>.</p>"
    )


def webhook_payload(cases: Sequence[Case], as_of: str, run_id: str) -> dict[str, Any]:
    return {
        "source": "ews",
        "as_of_date": as_of,
        "run_id": run_id,
        "cases": [
            {"case_id": c.case_id, "domain": c.domain, "indicator": c.indicator, "entity_type": c.entity_type,
             "entity_id": c.entity_id, "status": c.status.value, "severity": c.severity, "escalated": c.is_escalated,
             "first_seen_date": c.first_seen_date.isoformat(), "last_seen_date": c.last_seen_date.isoformat(),
             "value": c.value, "threshold": c.threshold, "explanation": c.explanation, "summary": _line(c)}
            for c in cases
        ],
    }


def send(channel: str, cases: Sequence[Case], as_of: str, run_id: str, channels: Channels) -> None:
    """One batched message for the channel, through its Airflow notifier."""
    if channel == EMAIL:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        notifier: BaseNotifier = SmtpNotifier(
            to=list(channels.email_to), from_email=channels.from_email, smtp_conn_id=channels.smtp_conn_id,
            subject=f"ews: {len(cases)} high-severity alert case(s), {as_of}", html_content=email_html(cases, as_of),
        )
    else:
        notifier = WebhookNotifier(webhook_payload(cases, as_of, run_id), conn_id=channels.webhook_conn_id,
                                   url=channels.webhook_url)
    try:
        notifier.notify({})  # the content is final: no template rendering of alert text
    except Exception as exc:  # any failure of the channel: nothing is recorded, the next run tries again
        raise NotificationError(channel, str(exc)) from exc


def notify_cases(conn: psycopg2.extensions.connection, run_id: str, channels: Channels | None = None) -> dict[str, int]:
    """Send what each configured channel has pending, then record it; cases notified per channel."""
    channels = channels or Channels.from_env()
    cases = cases_as_of(conn)
    if not cases:
        return {}
    as_of = cases[0].as_of_date.isoformat()
    sent: dict[str, int] = {}
    for channel in channels.names:
        todo = pending(conn, channel, cases)
        if todo:
            send(channel, todo, as_of, run_id, channels)
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into warning.alert_notifications (case_id, state, channel, run_id) values (%s, %s, %s, %s)"
                    " on conflict do nothing",
                    [(c.case_id, STATE_HIGH, channel, run_id) for c in todo],
                )
            conn.commit()
        sent[channel] = len(todo)
    return sent
