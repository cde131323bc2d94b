"""Notifications against a real SMTP server and a real HTTP receiver on loopback: the cases that reach high
severity go out once, batched per run, through Airflow's SMTP notifier and our webhook notifier; suppressed cases
never; a failed delivery is not recorded, so the next run sends it."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import pytest
from aiosmtpd.controller import Controller

from warning_models.alerts.actions import act
from warning_models.alerts.lifecycle import ActionKind, LifecycleConfig, refresh_cases
from warning_models.alerts.notify import Channels, notify_cases
from warning_models.errors import NotificationError

D = dt.date(2025, 3, 3)
CONFIG = LifecycleConfig(auto_resolve_after_days=3)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # aiosmtpd's hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_EWS_TEST_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "ews@bank.test", "retry_limit": 0},
    }))
    yield inbox
    controller.stop()


class _Receiver(BaseHTTPRequestHandler):
    posts: list[tuple[str, dict, str]] = []
    status = 204

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append((self.path, json.loads(body), self.headers.get("Authorization", "")))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Receiver]]:
    _Receiver.posts, _Receiver.status = [], 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AIRFLOW_CONN_EWS_TEST_HOOK", json.dumps({
        "conn_type": "http", "host": "127.0.0.1", "port": server.server_address[1], "schema": "http",
        "password": "t0ken", "extra": {"endpoint": "/hooks/ews"},
    }))
    yield _Receiver
    server.shutdown()


CHANNELS = Channels(email_to=("risk-desk@bank.test", "ciso@bank.test"), smtp_conn_id="ews_test_smtp",
                    webhook_conn_id="ews_test_hook")


def _alert(conn: psycopg2.extensions.connection, n: int, entity: str, severity: str) -> None:
    day = D + dt.timedelta(days=n)
    with conn.cursor() as cur:
        cur.execute(
            """insert into warning.alerts (alert_id, as_of_date, domain, entity_type, entity_id, indicator, value,
               threshold, severity, explanation) values (%s, %s, 'access', 'user', %s, 'access_activity_baseline',
               70, 60, %s, %s)""",
            (f"access_activity_baseline:{entity}:{day}", day, entity, severity, f"{entity} read <b>too much</b>"),
        )
    refresh_cases(conn, CONFIG)
    conn.commit()


def test_high_cases_go_out_once_by_email_and_webhook(warehouse: str, smtp: _Inbox, webhook: type[_Receiver]) -> None:
    with psycopg2.connect(warehouse) as conn:
        _alert(conn, 0, "U1", "high")  # new at high: goes out
        _alert(conn, 0, "U2", "medium")  # medium: stays
        _alert(conn, 0, "U3", "high")
        act(conn, "U3", ActionKind.SUPPRESS, "ana", "known test account", config=CONFIG)  # suppressed: never
        conn.commit()
        assert notify_cases(conn, "run-1", CHANNELS) == {"email": 1, "webhook": 1}
        [message] = smtp.messages
        assert message["To"] == "risk-desk@bank.test, ciso@bank.test"
        assert "1 high-severity alert case" in message["Subject"]
        body = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
        assert "access_activity_baseline:U1:2025-03-03" in body and "U2" not in body and "U3" not in body
        assert "&lt;b&gt;too much&lt;/b&gt;" in body  # alert text is escaped, never markup
        [(path, payload, auth)] = webhook.posts
        assert path == "/hooks/ews" and auth == "Bearer t0ken"
        assert [c["entity_id"] for c in payload["cases"]] == ["U1"] and payload["run_id"] == "run-1"
        # the same state never goes out twice: a rerun sends nothing
        assert notify_cases(conn, "run-2", CHANNELS) == {"email": 0, "webhook": 0}
        assert len(smtp.messages) == 1 and len(webhook.posts) == 1
        # U2 escalates to high the next day, U1 stays high: only U2, both channels, one batch each
        _alert(conn, 1, "U1", "high")
        _alert(conn, 1, "U2", "high")
        assert notify_cases(conn, "run-3", CHANNELS) == {"email": 1, "webhook": 1}
        assert webhook.posts[-1][1]["cases"][0]["escalated"] is True
        with conn.cursor() as cur:
            cur.execute("select case_id, channel, run_id from warning.alert_notifications order by run_id, channel")
            assert [(c.split(":")[1], ch, r) for c, ch, r in cur.fetchall()] == [
                ("U1", "email", "run-1"), ("U1", "webhook", "run-1"), ("U2", "email", "run-3"), ("U2", "webhook", "run-3")
            ]


def test_a_failed_delivery_is_sent_again_by_the_next_run(warehouse: str, smtp: _Inbox, webhook: type[_Receiver]) -> None:
    webhook_only = Channels(webhook_conn_id="ews_test_hook")
    with psycopg2.connect(warehouse) as conn:
        _alert(conn, 0, "U7", "high")
        webhook.status = 503
        with pytest.raises(NotificationError, match="webhook"):
            notify_cases(conn, "run-1", webhook_only)
        conn.rollback()
        webhook.status = 204
        assert notify_cases(conn, "run-2", webhook_only) == {"webhook": 1}
        assert [p[1]["run_id"] for p in webhook.posts] == ["run-1", "run-2"]


def test_no_channel_configured_sends_nothing(warehouse: str) -> None:
    with psycopg2.connect(warehouse) as conn:
        _alert(conn, 0, "U1", "high")
        assert notify_cases(conn, "run-1", Channels()) == {}
        assert Channels.from_env({"EWS_ALERTS_EMAIL_TO": " a@b.test, ,c@d.test", "EWS_ALERTS_WEBHOOK_URL": "http://x"}).names == [
            "email", "webhook"]


def test_a_failed_task_is_reported_by_the_channels_and_a_broken_channel_does_not_raise(
    smtp: _Inbox, webhook: type[_Receiver]
) -> None:
    from types import SimpleNamespace

    from warning_models.task_failures import notify_task_failure

    ti = SimpleNamespace(task_id="ingest.loans", dag_id="ews_load", try_number=3, run_id="scheduled__2025-03-02",
                         log_url="http://airflow.local/log")
    context = {"ti": ti, "exception": ValueError("no landing file"), "logical_date": "2025-03-02T06:00:00+00:00"}
    assert notify_task_failure(context, CHANNELS) == ["email", "webhook"]
    payload = webhook.posts[-1][1]
    assert (payload["kind"], payload["dag_id"], payload["task_id"], payload["try_number"]) == (
        "task_failure", "ews_load", "ingest.loans", 3)
    assert payload["error"] == "ValueError: no landing file"
    assert "ingest.loans" in smtp.messages[-1]["Subject"]
    broken = Channels(webhook_url="http://127.0.0.1:9/nothing-listens-here")
    assert notify_task_failure(context, broken) == []
