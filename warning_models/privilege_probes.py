"""Try, as each role, what that role must not do (and a few things it must): the least-privilege check of a live
warehouse. ``ews security probe`` prints every attempt and its result; the tests require every one to match.

Each probe runs in its own transaction under ``SET LOCAL ROLE`` and is rolled back, so a probe that wrongly
succeeds changes nothing. A superuser that sets a role has exactly that role's rights (and row-level security
applies to it), which is what a job connecting with the role gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from warning_models.roles import JobRole

CONSORTIUM_ROLE = "ews_consortium"


class Expect(StrEnum):
    """What a probe must meet."""

    DENIED = "denied"  # permission denied (insufficient_privilege)
    REFUSED_BY_POLICY = "refused by policy"  # row-level security rejects the written row
    ALLOWED = "allowed"


@dataclass(frozen=True)
class Probe:
    role: str
    attempt: str  # what is tried, in words
    statement: str  # SQL, constant text: nothing of it comes from input
    expect: Expect


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    outcome: str  # "denied", "refused by policy", "allowed" or "error: ..."
    detail: str

    @property
    def met(self) -> bool:
        return self.outcome == self.probe.expect.value


_DQ_ALERT = (
    "insert into warning.alerts (alert_id, as_of_date, domain, entity_type, entity_id, indicator, value, threshold, "
    "severity, explanation) values ('probe', current_date, '{domain}', 'batch', 'probe', 'probe', 1, 1, 'low', 'probe')"
)

L, T, M, B, A = (r.value for r in (JobRole.LOADER, JobRole.TRANSFORMER, JobRole.MODELER, JobRole.BI_READER, JobRole.AUDITOR))
PROBES: tuple[Probe, ...] = (
    # BI tools: the warning tables and the masked views, never raw data, PII, the marts or the audit trail
    Probe(B, "read borrower names and national ids in raw", "select full_name, national_id from raw.borrowers limit 1", Expect.DENIED),
    Probe(B, "read the quarantined files (raw bytes)", "select file_content from quarantine.batches limit 1", Expect.DENIED),
    Probe(B, "read the pseudonym map in staging", "select * from staging.stg_core__borrower_pseudonyms limit 1", Expect.DENIED),
    Probe(B, "read the loan-day mart", "select * from marts.fct_loan_days limit 1", Expect.DENIED),
    Probe(B, "read the consortium's shared mart", "select * from consortium.fct_consortium_borrower_signals limit 1", Expect.DENIED),
    Probe(B, "read the batch audit trail", "select * from audit.batches limit 1", Expect.DENIED),
    Probe(B, "write an alert", _DQ_ALERT.format(domain="credit"), Expect.DENIED),
    Probe(B, "read the alerts", "select * from warning.alerts limit 1", Expect.ALLOWED),
    Probe(B, "read the masked borrower view", "select * from bi.borrowers limit 1", Expect.ALLOWED),
    # the loader: raw and its own audit trail, data-quality alerts only
    Probe(L, "read a mart", "select * from marts.fct_loan_days limit 1", Expect.DENIED),
    Probe(L, "write a credit alert", _DQ_ALERT.format(domain="credit"), Expect.REFUSED_BY_POLICY),
    Probe(L, "read the model runs", "select * from warning.model_runs limit 1", Expect.DENIED),
    Probe(L, "create a table among the marts", "create table marts.probe (x int)", Expect.DENIED),
    Probe(L, "write a data-quality alert", _DQ_ALERT.format(domain="data_quality"), Expect.ALLOWED),
    Probe(L, "read raw borrowers", "select * from raw.borrowers limit 1", Expect.ALLOWED),
    # dbt: reads raw, builds its schemas, never writes raw, the audit trail or the warning tables
    Probe(T, "delete raw loans", "delete from raw.loans", Expect.DENIED),
    Probe(T, "mark a batch passed", "update audit.batches set status = 'passed'", Expect.DENIED),
    Probe(T, "write an alert", _DQ_ALERT.format(domain="data_quality"), Expect.DENIED),
    Probe(T, "read the quarantined files", "select file_content from quarantine.batches limit 1", Expect.DENIED),
    Probe(T, "read raw borrowers", "select borrower_id from raw.borrowers limit 1", Expect.ALLOWED),
    # the indicators: marts in, warning tables out
    Probe(M, "read borrower names in raw", "select full_name from raw.borrowers limit 1", Expect.DENIED),
    Probe(M, "read the pseudonym map in staging", "select * from staging.stg_core__borrower_pseudonyms limit 1", Expect.DENIED),
    Probe(M, "change a mart", "delete from marts.fct_loan_days", Expect.DENIED),
    Probe(M, "drop a mart", "drop table marts.fct_loan_days", Expect.DENIED),
    Probe(M, "mark a batch passed", "update audit.batches set status = 'passed'", Expect.DENIED),
    Probe(M, "read a mart", "select * from marts.fct_loan_days limit 1", Expect.ALLOWED),
    Probe(M, "write a credit alert", _DQ_ALERT.format(domain="credit"), Expect.ALLOWED),
    # the auditor: the audit trail, read only
    Probe(A, "read access events in raw", "select * from raw.access_events limit 1", Expect.DENIED),
    Probe(A, "read the quarantined files", "select file_content from quarantine.batches limit 1", Expect.DENIED),
    Probe(A, "change the audit trail", "delete from audit.batches", Expect.DENIED),
    Probe(A, "read the batch audit trail", "select * from audit.batches limit 1", Expect.ALLOWED),
    # the consortium: its shared marts only
    Probe(CONSORTIUM_ROLE, "read the loan-day mart", "select * from marts.fct_loan_days limit 1", Expect.DENIED),
    Probe(CONSORTIUM_ROLE, "read the pseudonym map", "select * from staging.stg_core__borrower_pseudonyms limit 1", Expect.DENIED),
    Probe(CONSORTIUM_ROLE, "read raw borrowers", "select * from raw.borrowers limit 1", Expect.DENIED),
    Probe(CONSORTIUM_ROLE, "read the shared borrower signals", "select * from consortium.fct_consortium_borrower_signals limit 1", Expect.ALLOWED),
)


def run_probe(conn: psycopg2.extensions.connection, probe: Probe) -> ProbeResult:
    """Try one probe as its role, in a transaction that is always rolled back."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("set local role {}").format(sql.Identifier(probe.role)))
            cur.execute(probe.statement)
        outcome, detail = Expect.ALLOWED.value, "succeeded"
    except psycopg2.errors.InsufficientPrivilege as exc:
        message = str(exc).strip().splitlines()[0]
        outcome = Expect.REFUSED_BY_POLICY.value if "row-level security" in message else Expect.DENIED.value
        detail = message
    except psycopg2.Error as exc:
        outcome, detail = f"error: {type(exc).__name__}", str(exc).strip().splitlines()[0]
    finally:
        conn.rollback()
    return ProbeResult(probe, outcome, detail)


def run_probes(conn: psycopg2.extensions.connection, probes: tuple[Probe, ...] = PROBES) -> list[ProbeResult]:
    return [run_probe(conn, p) for p in probes]
