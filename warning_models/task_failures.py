"""The DAGs' failure callback: a failed task (after its retries) is reported through the alert channels.

The message names the DAG, the task, the run, the try and the error, with the link to the task's log. Email and
webhook are the ones of the alerts (warning_models.alerts.notify, configured by EWS_ALERTS_*); with neither
configured the failure is only logged. A callback never raises: a broken channel must not hide the failure.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from typing import Any

from warning_models.alerts.notify import EMAIL, Channels, WebhookNotifier

log = logging.getLogger(__name__)


def failure_summary(context: Mapping[str, Any]) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    exception = context.get("exception")
    return {
        "source": "ews",
        "kind": "task_failure",
        "dag_id": getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": context.get("run_id") or getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "logical_date": str(context.get("logical_date") or ""),
        "error": f"{type(exception).__name__}: {exception}" if exception else None,
        "log_url": getattr(ti, "log_url", None),
    }


def notify_task_failure(context: Mapping[str, Any], channels: Channels | None = None) -> list[str]:
    """Send the failure by every configured channel; the channels that took it."""
    channels = channels or Channels.from_env()
    summary = failure_summary(context)
    log.error("task failed: %s", summary)
    delivered: list[str] = []
    for channel in channels.names:
        try:
            if channel == EMAIL:
                from airflow.providers.smtp.notifications.smtp import SmtpNotifier

                body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                               for k, v in summary.items() if v is not None)
                SmtpNotifier(
                    to=list(channels.email_to), from_email=channels.from_email, smtp_conn_id=channels.smtp_conn_id,
                    subject=f"ews: task {summary['task_id']} of {summary['dag_id']} failed",
                    html_content=f"<table>{body}</table>",
                ).notify({})
            else:
                WebhookNotifier(summary, conn_id=channels.webhook_conn_id, url=channels.webhook_url).notify({})
            delivered.append(channel)
        except Exception:  # noqa: BLE001 (a callback must not raise)
            log.exception("could not report the failure by %s", channel)
    return delivered
