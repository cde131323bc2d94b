"""docker/: the production compose file, the image and the init job, checked without a Docker engine.

Each check is a function returning the problems it finds (empty: fine); the tests assert there are none in the
files, and that each check does find the problem in a copy of the files with one thing broken (a removed
healthcheck, a literal password, a wrong pin...), so no check passes vacuously. The init chain itself
(initdb script, `ews warehouse migrate` as the owner `ews`, the jobs' logins) runs against a real PostgreSQL 16,
the embedded one of pgserver, with password authentication.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg2
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from warning_models.celery_worker import CONFIG_OPTION
from warning_models.config import REPO_ROOT
from warning_models.privacy import TELEMETRY_OFF

DOCKER = REPO_ROOT / "docker"
COMPOSE_TEXT = (DOCKER / "docker-compose.yaml").read_text()
DOCKERFILE_TEXT = (DOCKER / "Dockerfile").read_text()
ENV_EXAMPLE_TEXT = (DOCKER / ".env.example").read_text()
INITDB_TEXT = (DOCKER / "initdb" / "01-databases.sh").read_text()
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
LOCK_TEXT = (REPO_ROOT / ".ci" / "requirements.lock").read_text()

COMMON = "x-airflow-common"
REQUIRED_SERVICES = {
    "postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
    "airflow-worker", "airflow-init",
}
ONE_SHOT = {"airflow-init", "airflow-cli"}  # run to completion: no healthcheck, others wait for init to succeed
# what each long-running service's healthcheck must probe
HEALTH_PROBES = {
    "postgres": "pg_isready",
    "redis": "redis-cli ping",
    "airflow-apiserver": "http://localhost:8080/api/v2/",
    "airflow-scheduler": "http://localhost:8974/health",
    "airflow-dag-processor": "airflow jobs check --job-type DagProcessorJob",
    "airflow-triggerer": "airflow jobs check --job-type TriggererJob",
    "airflow-worker": "celery --app airflow.providers.celery.executors.celery_executor.app inspect ping",
}
# secrets compose must refuse to start without (`${VAR:?...}`), and settings that may stay empty (`${VAR:-...}`)
REQUIRED_VARIABLES = {
    "EWS_WAREHOUSE_PASSWORD", "AIRFLOW_DB_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "EWS_PSEUDONYM_KEY", "EWS_LOADER_PASSWORD",
    "EWS_TRANSFORMER_PASSWORD", "EWS_MODELER_PASSWORD", "REDIS_PASSWORD", "POSTGRES_SUPERUSER_PASSWORD",
}
OPTIONAL_VARIABLES = {
    "EWS_CONSORTIUM_KEY", "EWS_ALERTS_EMAIL_TO", "EWS_ALERTS_WEBHOOK_URL", "AIRFLOW_CONN_SMTP_DEFAULT",
    "EWS_DBT_EXECUTION_MODE", "EWS_MARKET_INSTRUMENT_SHARDS",
    "EWS_BI_PASSWORD", "AIRFLOW_ADMIN_USERNAME", "EWS_IMAGE",
}
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>:?[-?])?[^}]*\}")
BARE_VARIABLE = re.compile(r"(?<!\$)\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|(^|_)KEY$|_AUTH$|^AIRFLOW_CONN_")


def _load_ews_init():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ews_init", DOCKER / "ews_init.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["ews_init"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ews_init = _load_ews_init()


# --- reading the files ------------------------------------------------------------------------------------------


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose.get("services") or {}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_text(service: dict[str, Any], key: str = "command") -> str:
    value = service.get(key) or ""
    return " ".join(value) if isinstance(value, list) else str(value)


def airflow_services(compose: dict[str, Any]) -> list[str]:
    """The services running the ews/Airflow image: every airflow-* service and flower."""
    return [name for name in services(compose) if name.startswith("airflow-") or name == "flower"]


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume entry, short or long syntax."""
    found = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            found.append((str(entry.get("source", "")), str(entry.get("target", ""))))
        else:
            source, _, rest = str(entry).partition(":")
            found.append((source, rest.split(":")[0]))
    return found


def is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$"))


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, current = [], ""
    for line in text.splitlines():
        if line.strip().startswith("#") and not current:
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            joined.append(current.strip())
        current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in joined]


def dockerfile_env(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in dockerfile_instructions(text):
        if instruction == "ENV":
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                env[key] = value
    return env


def dockerfile_copies(text: str) -> dict[str, str]:
    """Source path -> destination of every COPY (one source each, options such as --chown dropped)."""
    copies = {}
    for instruction, args in dockerfile_instructions(text):
        if instruction == "COPY":
            paths = [t for t in shlex.split(args) if not t.startswith("--")]
            destination = paths[-1]
            for source in paths[:-1]:
                into_folder = destination.endswith("/")
                copies[source] = destination + Path(source).name if into_folder else destination
    return copies


def pins(requirements: list[str]) -> dict[str, str | None]:
    """Canonical name -> the exact `==` version (None when the requirement is not one exact pin)."""
    found: dict[str, str | None] = {}
    for text in requirements:
        req = Requirement(text)
        specs = list(req.specifier)
        found[canonicalize_name(req.name)] = specs[0].version if len(specs) == 1 and specs[0].operator == "==" else None
    return found


def lock_pins(text: str) -> tuple[dict[str, str], list[str]]:
    locked: dict[str, str] = {}
    problems = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if not match:
            problems.append(f"lock line is not `name==version`: {line!r}")
            continue
        name = canonicalize_name(match.group(1))
        if name in locked:
            problems.append(f"{name} is pinned twice in the lock")
        locked[name] = match.group(2)
    return locked, problems


def project_requirements(pyproject: dict[str, Any]) -> list[str]:
    project = pyproject["project"]
    return list(project["dependencies"]) + [r for extra in project.get("optional-dependencies", {}).values() for r in extra]


# --- the checks ------------------------------------------------------------------------------------------------------


def check_services(compose: dict[str, Any]) -> list[str]:
    return [f"service {name} is missing" for name in sorted(REQUIRED_SERVICES - set(services(compose)))]


# the compose specification's keys this file may use (github.com/compose-spec/compose-spec, schema/compose-spec.json)
SERVICE_KEYS = {
    "build", "image", "environment", "volumes", "user", "depends_on", "command", "entrypoint", "healthcheck",
    "restart", "ports", "expose", "deploy", "profiles",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
DURATION = re.compile(r"(\d+(ms|s|m|h))+")
CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")


def check_compose_shape(compose: dict[str, Any]) -> list[str]:
    """Keys and value types a compose engine accepts (a typo such as `healtcheck` would be refused or ignored)."""
    problems = [f"unknown top-level key {k}" for k in compose if k not in ("services", "volumes") and not k.startswith("x-")]
    for name, service in services(compose).items():
        problems += [f"{name}: unknown key {k}" for k in service if k not in SERVICE_KEYS]
        health = service.get("healthcheck") or {}
        problems += [f"{name}: unknown healthcheck key {k}" for k in health if k not in HEALTHCHECK_KEYS]
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if key in health and not DURATION.fullmatch(str(health[key])):
                problems.append(f"{name}: healthcheck {key} {health[key]!r} is not a duration")
        depends = service.get("depends_on") or {}
        for target, spec in depends.items() if isinstance(depends, dict) else []:
            if set(spec or {}) - {"condition", "restart", "required"}:
                problems.append(f"{name}: depends_on {target} has unknown keys")
            if (spec or {}).get("condition") not in CONDITIONS:
                problems.append(f"{name}: depends_on {target}: unknown condition")
        env = service.get("environment") or {}
        for key, value in env.items() if isinstance(env, dict) else []:
            if not isinstance(value, (str, int, float, bool, type(None))):
                problems.append(f"{name}: environment {key} is not a scalar")
    return problems


def check_healthchecks(compose: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        if name in ONE_SHOT:
            continue
        health = service.get("healthcheck") or {}
        test = health.get("test")
        test_text = " ".join(test) if isinstance(test, list) else str(test or "")
        if not test or health.get("disable") or test_text.strip() in ("NONE", "[NONE]"):
            problems.append(f"{name} has no healthcheck")
        elif name in HEALTH_PROBES and HEALTH_PROBES[name] not in test_text:
            problems.append(f"{name}'s healthcheck does not run {HEALTH_PROBES[name]!r}: {test_text}")
    scheduler = services(compose).get("airflow-scheduler", {})
    if environment(scheduler).get("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "").lower() != "true":
        problems.append("the scheduler's health server (:8974) is not enabled")
    return problems


def check_common_block_merged(text: str) -> list[str]:
    """Every Airflow service merges the one `x-airflow-common` block (`<<: *airflow-common`): an alias is the
    anchored node itself, a pasted copy is not."""
    root = yaml.compose(text)
    top = {key.value: value for key, value in root.value}
    if COMMON not in top:
        return [f"no {COMMON} block"]
    common = top[COMMON]
    problems = []
    for key, node in top["services"].value:
        if not (key.value.startswith("airflow-") or key.value == "flower"):
            continue
        merged = [value for k, value in node.value if k.tag == "tag:yaml.org,2002:merge"]
        if not any(value is common for value in merged):
            problems.append(f"{key.value} does not merge {COMMON}")
    return problems


def check_celery(compose: dict[str, Any]) -> list[str]:
    problems = []
    names = set(services(compose))
    for name in airflow_services(compose):
        env = environment(services(compose)[name])
        broker = url(env.get("AIRFLOW__CELERY__BROKER_URL", ""))
        backend = env.get("AIRFLOW__CELERY__RESULT_BACKEND", "")
        execution_api = url(env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", ""))
        if env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
            problems.append(f"{name}: executor {env.get('AIRFLOW__CORE__EXECUTOR')!r}, not CeleryExecutor")
        if broker.scheme != "redis" or broker.hostname != "redis":
            problems.append(f"{name}: the Celery broker is not the redis service")
        if not backend.startswith("db+postgresql") or url(backend).hostname != "postgres":
            problems.append(f"{name}: the Celery result backend is not the postgres service")
        if url(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")).hostname != "postgres":
            problems.append(f"{name}: Airflow's metadata database is not the postgres service")
        if execution_api.hostname not in names or execution_api.path != "/execution/":
            problems.append(f"{name}: AIRFLOW__CORE__EXECUTION_API_SERVER_URL does not name the api-server service")
        for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
            if not env.get(key):
                problems.append(f"{name}: {key} is not set (it must be the same on every component)")
        if env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() != "false":
            problems.append(f"{name}: example DAGs are loaded")
    workers = [n for n in services(compose) if "celery worker" in command_text(services(compose)[n])]
    replicas = sum(int((services(compose)[n].get("deploy") or {}).get("replicas", 1)) for n in workers)
    if replicas < 2:
        problems.append(f"{replicas} Celery worker(s): the stack must run at least two")
    for name in workers:
        option = environment(services(compose)[name]).get("AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS")
        if option != CONFIG_OPTION:
            problems.append(f"{name}: Celery configuration {option!r}, not warning_models.celery_worker's preload")
    return problems


def check_depends_on(compose: dict[str, Any]) -> list[str]:
    problems = []
    all_services = services(compose)
    for name, service in all_services.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problems.append(f"{name}: depends_on without conditions")
            continue
        for target, spec in depends.items():
            condition = (spec or {}).get("condition")
            if target not in all_services:
                problems.append(f"{name} depends on an unknown service {target}")
            elif condition == "service_healthy" and not all_services[target].get("healthcheck"):
                problems.append(f"{name} waits for {target} to be healthy, which has no healthcheck")
        expected = {"postgres": "service_healthy", "redis": "service_healthy"}
        if name in airflow_services(compose) and name not in ONE_SHOT:
            expected["airflow-init"] = "service_completed_successfully"
        if name not in airflow_services(compose) or name == "airflow-cli":
            continue
        for target, condition in expected.items():
            actual = (depends.get(target) or {}).get("condition")
            if actual != condition:
                problems.append(f"{name} must wait for {target}: {condition} (has {actual})")
    return problems


def check_volumes(compose: dict[str, Any]) -> list[str]:
    problems = []
    declared = set(compose.get("volumes") or {})
    used: dict[str, set[str]] = {}
    for name, service in services(compose).items():
        for source, target in mounts(service):
            if is_named_volume(source):
                used.setdefault(source, set()).add(name)
            if target == "/opt/ews" or target.startswith("/opt/ews/"):
                problems.append(f"{name} mounts {target}: the DAGs and the dbt project come from the image")
    problems += [f"volume {v} is used but not declared" for v in sorted(set(used) - declared)]
    problems += [f"volume {v} is declared but never used" for v in sorted(declared - set(used))]
    required = {
        "postgres": ["/var/lib/postgresql/data"],
        "airflow-worker": ["/data", "/opt/airflow/logs"],
        "airflow-apiserver": ["/opt/airflow/logs"],
        "airflow-init": ["/data"],
    }
    for name, targets in required.items():
        have = {target for source, target in mounts(services(compose).get(name, {})) if is_named_volume(source)}
        problems += [f"{name} does not keep {t} on a named volume" for t in targets if t not in have]
    # the admin's password file: only the init job (writes it) and the api-server (reads it) mount its volume
    auth_file = environment(services(compose).get("airflow-apiserver", {})).get(
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "")
    auth_dir = str(Path(auth_file).parent) if auth_file else ""
    for name, service in services(compose).items():
        for source, target in mounts(service):
            if auth_dir and target == auth_dir and name not in ("airflow-init", "airflow-apiserver"):
                problems.append(f"{name} mounts the admin's password file ({source})")
    return problems


def compose_variables(compose: dict[str, Any]) -> tuple[dict[str, set[str]], list[str]]:
    """Every `${VAR}` the (parsed) file uses, with its modifiers; bare `$VAR` is a problem."""
    found: dict[str, set[str]] = {}
    problems = []
    for text in strings(compose):
        for match in VARIABLE.finditer(text):
            found.setdefault(match["name"], set()).add(match["modifier"] or "")
        for match in BARE_VARIABLE.finditer(text):
            problems.append(f"${match['name']}: write ${{{match['name']}...}} (or $$ for the container's shell)")
    return found, problems


def env_example_entries(text: str) -> tuple[dict[str, str], list[str]]:
    entries: dict[str, str] = {}
    problems = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line.strip())
        if not match:
            continue
        entries[match[1]] = match[2]
        if i == 0 or not lines[i - 1].lstrip().startswith("#"):
            problems.append(f".env.example: {match[1]} has no comment above it")
    return entries, problems


def check_variables(compose: dict[str, Any], env_example: str) -> list[str]:
    used, problems = compose_variables(compose)
    entries, more = env_example_entries(env_example)
    problems += more
    problems += [f"{v} is used but not listed in .env.example" for v in sorted(set(used) - set(entries))]
    problems += [f".env.example lists {v}, which the compose file never uses" for v in sorted(set(entries) - set(used))]
    problems += [f".env.example gives {k} a value: it must only name it" for k, v in sorted(entries.items()) if v.strip()]
    for name, modifiers in sorted(used.items()):
        if name in REQUIRED_VARIABLES and modifiers != {":?"}:
            problems.append(f"{name} is required: every use must be ${{{name}:?...}} (has {sorted(modifiers)})")
        elif name in OPTIONAL_VARIABLES and modifiers != {":-"}:
            problems.append(f"{name} is optional: every use must be ${{{name}:-...}} (has {sorted(modifiers)})")
        elif name not in REQUIRED_VARIABLES | OPTIONAL_VARIABLES:
            problems.append(f"{name} is neither a known required nor a known optional variable")
    problems += [f"required {v} is not used" for v in sorted(REQUIRED_VARIABLES - set(used))]
    return problems


def _literal(value: str) -> bool:
    return bool(value) and not REFERENCE.fullmatch(value) and not re.fullmatch(r"__[A-Za-z0-9_]+__", value)


def url(value: str):  # type: ignore[no-untyped-def]
    """urlsplit of a value whose `${VAR:?message}` references (which may hold `?` or `/`) became `__VAR__`."""
    return urlsplit(VARIABLE.sub(lambda m: f"__{m['name']}__", value))


def check_no_literal_secrets(compose: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        for key, value in environment(service).items():
            if SECRET_KEY.search(key) and not key.endswith(("_FILE", "_USERNAME")) and _literal(value):
                problems.append(f"{name}: {key} holds a literal value")
            if "://" in value:
                password = url(value).password
                if password is not None and _literal(password):
                    problems.append(f"{name}: {key} holds a literal password in its URL")
        tokens = service.get("command") if isinstance(service.get("command"), list) else []
        for option, value in zip(tokens, tokens[1:]):
            if "pass" in str(option).lower() and _literal(str(value)):
                problems.append(f"{name}: {option} is given a literal value")
    return problems


def check_init_job(compose: dict[str, Any]) -> list[str]:
    problems = []
    init = services(compose).get("airflow-init", {})
    script = command_text(init)
    steps = ["airflow db migrate", "ews warehouse migrate", "ews_init.py logins", "ews_init.py admin-password"]
    positions = [script.find(step) for step in steps]
    problems += [f"airflow-init does not run {step!r}" for step, at in zip(steps, positions) if at < 0]
    if all(at >= 0 for at in positions) and positions[1] > positions[2]:
        problems.append("airflow-init creates the logins before the migrations created their roles")
    init_env = environment(init)
    for login in ews_init.LOGINS:
        if login.password_variable not in init_env:
            problems.append(f"airflow-init does not get {login.password_variable} (login {login.name})")
    if "AIRFLOW_ADMIN_PASSWORD" not in init_env:
        problems.append("airflow-init does not get AIRFLOW_ADMIN_PASSWORD")
    # the jobs' URLs log in as the logins the init job creates, with their passwords, on the warehouse
    env = environment(services(compose).get("airflow-worker", {}))
    for login in ews_init.LOGINS:
        if not login.url_variable:
            continue
        job = url(env.get(login.url_variable, ""))
        if job.username != login.name or job.password != f"__{login.password_variable}__":
            problems.append(f"{login.url_variable} must log in as {login.name} with {login.password_variable}")
        if job.hostname != "postgres" or job.path != "/ews":
            problems.append(f"{login.url_variable} does not point at the warehouse (postgres/ews)")
    owner = url(env.get("EWS_DATABASE_URL", ""))
    if (owner.username, owner.hostname, owner.path) != ("ews", "postgres", "/ews"):
        problems.append("EWS_DATABASE_URL is not the warehouse's owner ews on postgres/ews")
    for key, value in {"EWS_HOME": "/data", "EWS_LANDING_DIR": "/data/landing"}.items():
        if env.get(key) != value:
            problems.append(f"{key} must be {value} (the ews-data volume)")
    return problems


def check_telemetry(compose: dict[str, Any], dockerfile: str = DOCKERFILE_TEXT) -> list[str]:
    problems = []
    image_env = dockerfile_env(dockerfile)
    problems += [f"Dockerfile: {k} must be {v!r}" for k, v in TELEMETRY_OFF.items() if image_env.get(k) != v]
    for name in airflow_services(compose):
        env = environment(services(compose)[name])
        problems += [f"{name}: {k} must be {v!r}" for k, v in TELEMETRY_OFF.items() if env.get(k) != v]
    return problems


def check_lock(pyproject: dict[str, Any], lock: str) -> list[str]:
    locked, problems = lock_pins(lock)
    for name, version in pins(project_requirements(pyproject)).items():
        if version is None:
            problems.append(f"pyproject.toml: {name} is not pinned with ==")
        elif locked.get(name) != version:
            problems.append(f"{name}=={version} in pyproject.toml, {locked.get(name)} in .ci/requirements.lock")
    return problems


def check_dockerfile(dockerfile: str, pyproject: dict[str, Any], compose: dict[str, Any]) -> list[str]:
    problems = []
    instructions = dockerfile_instructions(dockerfile)
    froms = [args for instruction, args in instructions if instruction == "FROM"]
    airflow = pins(project_requirements(pyproject)).get("apache-airflow")
    python = re.search(r">=\s*(\d+\.\d+)", pyproject["project"]["requires-python"])
    expected_base = f"apache/airflow:{airflow}-python{python.group(1) if python else '?'}"
    if froms != [expected_base]:
        problems.append(f"the image must be built FROM {expected_base} (the pins of pyproject.toml), not {froms}")
    copies = dockerfile_copies(dockerfile)
    lock_in_image = copies.get(".ci/requirements.lock")
    if not lock_in_image:
        problems.append("the Dockerfile does not copy .ci/requirements.lock")
    project_dir = str(Path(copies.get("pyproject.toml", "/nowhere/pyproject.toml")).parent)
    user, installs_lock = "root", False
    for instruction, args in instructions:
        if instruction == "USER":
            user = args.split(":")[0].strip()
        if instruction != "RUN" or "pip install" not in args:
            continue
        if user != "airflow":
            problems.append(f"pip runs as {user}, not as the airflow user: {args}")
        for segment in re.split(r"&&|;", args):
            if "pip install" not in segment:
                continue
            tokens = shlex.split(segment.split("pip install", 1)[1])
            targets, i = [], 0
            while i < len(tokens):
                if tokens[i] in ("-r", "--requirement", "-e", "--editable"):
                    targets.append((tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""))
                    i += 2
                    continue
                if not tokens[i].startswith("-"):
                    targets.append(("", tokens[i]))
                i += 1
            for option, target in targets:
                if option in ("-r", "--requirement") and target == lock_in_image:
                    installs_lock = True
                elif target.rstrip("/") in (project_dir, ".") and "--no-deps" in tokens:
                    continue
                else:
                    problems.append(f"the Dockerfile installs {target!r} outside the lock (only the lock, and the "
                                    "project with --no-deps)")
    if not installs_lock:
        problems.append("the Dockerfile does not pip install -r the lock it copies")
    env = dockerfile_env(dockerfile)
    compose_env = environment(services(compose).get("airflow-scheduler", {}))
    dags, dbt = copies.get("dags"), copies.get("dbt_project")
    if not dags or compose_env.get("AIRFLOW__CORE__DAGS_FOLDER") != dags or env.get("AIRFLOW__CORE__DAGS_FOLDER") != dags:
        problems.append(f"the DAGs are copied to {dags}, which must be AIRFLOW__CORE__DAGS_FOLDER in image and compose")
    if not dbt or env.get("EWS_DBT_PROJECT_DIR") != dbt:
        problems.append(f"the dbt project is copied to {dbt}, which must be EWS_DBT_PROJECT_DIR")
    if not env.get("EWS_DBT_TARGET_DIR"):
        problems.append("EWS_DBT_TARGET_DIR is not set: the DAG would not find the baked manifest")
    if not any(i == "RUN" and "ews dbt parse" in args for i, args in instructions):
        problems.append("the Dockerfile does not run `ews dbt parse` (the manifest Cosmos renders from)")
    init_script = copies.get("docker/ews_init.py")
    init_command = command_text(services(compose).get("airflow-init", {}))
    if not init_script or f"python {init_script} logins" not in init_command:
        problems.append("airflow-init does not run the ews_init.py the image holds")
    return problems


def check_initdb(script: str) -> list[str]:
    problems = []
    body = script.split("<<", 1)[1] if "<<" in script else ""
    if not re.search(r"<<\s*'SQL'", script):
        problems.append("initdb: the SQL here-document must be quoted (<<'SQL'): the shell must expand nothing in it")
    for variable in ("AIRFLOW_DB_PASSWORD", "EWS_WAREHOUSE_PASSWORD"):
        if re.search(r"\$\{?" + variable, body.split("\n", 1)[-1]):
            problems.append(f"initdb: {variable} is written into the SQL text")
    for statement in (r"create role airflow login password :'\w+'", r"create database airflow owner airflow",
                      r"create role ews login createrole password :'\w+'", r"create database ews owner ews"):
        if not re.search(statement, script):
            problems.append(f"initdb: missing {statement!r} (passwords as psql variables)")
    return problems


# --- the files pass every check -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_TEXT)


def test_the_compose_file_parses_and_names_every_service(compose: dict[str, Any]) -> None:
    assert check_services(compose) == []


def test_the_compose_file_uses_only_keys_of_the_compose_specification(compose: dict[str, Any]) -> None:
    assert check_compose_shape(compose) == []


def test_every_long_running_service_has_its_healthcheck(compose: dict[str, Any]) -> None:
    assert check_healthchecks(compose) == []


def test_every_airflow_service_merges_the_common_block() -> None:
    assert check_common_block_merged(COMPOSE_TEXT) == []


def test_celery_executor_with_redis_and_two_workers(compose: dict[str, Any]) -> None:
    assert check_celery(compose) == []


def test_services_wait_for_what_they_need(compose: dict[str, Any]) -> None:
    assert check_depends_on(compose) == []


def test_volumes_are_declared_used_and_nothing_is_mounted_over_the_image(compose: dict[str, Any]) -> None:
    assert check_volumes(compose) == []


def test_every_variable_is_in_env_example_required_or_optional(compose: dict[str, Any]) -> None:
    assert check_variables(compose, ENV_EXAMPLE_TEXT) == []


def test_no_literal_secret_in_the_compose_file(compose: dict[str, Any]) -> None:
    assert check_no_literal_secrets(compose) == []


def test_the_init_job_migrates_and_creates_the_job_logins(compose: dict[str, Any]) -> None:
    assert check_init_job(compose) == []


def test_usage_reporting_is_off_in_the_image_and_every_airflow_service(compose: dict[str, Any]) -> None:
    assert check_telemetry(compose, DOCKERFILE_TEXT) == []


def test_every_pin_of_pyproject_is_the_lock_pin() -> None:
    assert check_lock(PYPROJECT, LOCK_TEXT) == []


def test_the_image_installs_exactly_the_lock_on_the_pinned_airflow(compose: dict[str, Any]) -> None:
    assert check_dockerfile(DOCKERFILE_TEXT, PYPROJECT, compose) == []


def test_the_initdb_script_passes_passwords_as_psql_variables() -> None:
    assert check_initdb(INITDB_TEXT) == []
    subprocess.run(["bash", "-n", str(DOCKER / "initdb" / "01-databases.sh")], check=True)
    assert os.access(DOCKER / "initdb" / "01-databases.sh", os.X_OK), "the postgres image runs only executable scripts"


def test_the_deployment_secrets_stay_out_of_git_and_the_build_context() -> None:
    assert ".env" in (DOCKER / ".gitignore").read_text().split()
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {"docker/.env", ".venv", ".ews", "dbt_project/target"} <= set(ignored)


# --- ... and each check finds what it is there for --------------------------------------------------------------


def _broken(compose: dict[str, Any], path: str, value: Any = None, delete: bool = False) -> dict[str, Any]:
    """A deep copy with the value at a dotted path (service names contain dashes, not dots) replaced or removed."""
    broken = copy.deepcopy(compose)
    *parents, last = path.split(".")
    node = broken
    for key in parents:
        node = node[key]
    if delete:
        del node[last]
    else:
        node[last] = value
    return broken


@pytest.mark.parametrize(
    ("check", "path", "value", "delete"),
    [
        (check_services, "services.airflow-triggerer", None, True),
        (check_compose_shape, "services.airflow-worker.healtcheck", {"test": ["CMD", "true"]}, False),
        (check_compose_shape, "services.redis.healthcheck.interval", 10, False),
        (check_healthchecks, "services.airflow-scheduler.healthcheck", None, True),
        (check_healthchecks, "services.redis.healthcheck", None, True),
        (check_healthchecks, "services.airflow-worker.healthcheck", {"disable": True}, False),
        (check_healthchecks, "services.airflow-dag-processor.healthcheck.test", ["CMD", "true"], False),
        (check_celery, "services.airflow-worker.environment.AIRFLOW__CORE__EXECUTOR", "LocalExecutor", False),
        (check_celery, "services.airflow-scheduler.environment.AIRFLOW__CELERY__BROKER_URL", "amqp://rabbit", False),
        (check_celery, "services.airflow-worker.deploy", None, True),
        (check_celery, "services.airflow-worker.environment.AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS", None, True),
        (check_depends_on, "services.airflow-worker.depends_on.airflow-init.condition", "service_started", False),
        (check_depends_on, "services.airflow-worker.depends_on.redis", None, True),
        (check_depends_on, "services.airflow-scheduler.depends_on.postgres.condition", "service_started", False),
        (check_volumes, "services.airflow-worker.volumes", ["undeclared-volume:/data"], False),
        (check_volumes, "services.airflow-scheduler.volumes", ["ews-data:/data", "../dags:/opt/ews/dags"], False),
        (check_volumes, "services.airflow-worker.volumes", ["ews-data:/data", "airflow-auth:/opt/airflow/auth"], False),
        (check_no_literal_secrets, "services.airflow-worker.environment.AIRFLOW__CORE__FERNET_KEY", "c2VjcmV0", False),
        (check_no_literal_secrets, "services.postgres.environment.POSTGRES_PASSWORD", "postgres", False),
        (check_no_literal_secrets, "services.airflow-worker.environment.EWS_LOADER_DATABASE_URL",
         "postgresql://ews_loader_login:hunter2@postgres:5432/ews", False),
        (check_no_literal_secrets, "services.redis.command", ["redis-server", "--requirepass", "hunter2"], False),
        (check_init_job, "services.airflow-init.command", ["bash", "-c", "airflow db migrate"], False),
        (check_init_job, "services.airflow-worker.environment.EWS_MODELER_DATABASE_URL",
         "postgresql://ews:${EWS_WAREHOUSE_PASSWORD:?}@postgres:5432/ews", False),
        (check_telemetry, "services.airflow-worker.environment.DO_NOT_TRACK", None, True),
    ],
)
def test_each_check_catches_its_fault(compose: dict[str, Any], check: Any, path: str, value: Any, delete: bool) -> None:
    assert check(compose) == []
    assert check(_broken(compose, path, value, delete)) != []


@pytest.mark.parametrize(
    ("variable_use", "env_example"),
    [
        ("${NEW_SECRET:?set it}", ENV_EXAMPLE_TEXT),  # not listed in .env.example
        ("${EWS_PSEUDONYM_KEY:-}", ENV_EXAMPLE_TEXT),  # a required secret made optional
        ("${EWS_PSEUDONYM_KEY}", ENV_EXAMPLE_TEXT),  # no modifier: silently empty
        ("$EWS_PSEUDONYM_KEY", ENV_EXAMPLE_TEXT),  # unbraced
        ("${EWS_PSEUDONYM_KEY:?set it}",  # a value in the example file
         ENV_EXAMPLE_TEXT.replace("EWS_PSEUDONYM_KEY=", "EWS_PSEUDONYM_KEY=0123456789abcdef0123456789abcdef")),
        ("${EWS_PSEUDONYM_KEY:?set it}", ENV_EXAMPLE_TEXT + "\nUNUSED_SETTING=\n"),
    ],
)
def test_the_variable_check_catches_its_faults(compose: dict[str, Any], variable_use: str, env_example: str) -> None:
    broken = _broken(compose, "services.airflow-worker.environment.EXTRA", variable_use)
    assert check_variables(broken, env_example) != []


def test_the_merge_check_catches_a_service_without_the_common_block() -> None:
    text = COMPOSE_TEXT.replace("  airflow-triggerer:\n    <<: *airflow-common\n", "  airflow-triggerer:\n    image: x\n")
    assert text != COMPOSE_TEXT
    assert check_common_block_merged(text) == ["airflow-triggerer does not merge x-airflow-common"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("FROM apache/airflow:3.3.2-python3.11", "FROM apache/airflow:3.3.1-python3.11"),
        ("FROM apache/airflow:3.3.2-python3.11", "FROM apache/airflow:3.3.2-python3.12"),
        ("pip install --no-cache-dir -r /opt/ews/requirements.lock", "pip install --no-cache-dir -r requirements.txt"),
        ("pip install --no-cache-dir -r /opt/ews/requirements.lock",
         "pip install --no-cache-dir -r /opt/ews/requirements.lock statsmodels"),
        ("--no-deps --no-build-isolation -e /opt/ews", "--no-build-isolation -e /opt/ews"),
        ("USER airflow\n", "USER root\n"),
        ("COPY --chown=airflow:0 dags /opt/ews/dags", "COPY --chown=airflow:0 dags /opt/ews/other_dags"),
        ("RUN EWS_HOME=/tmp/ews-build ews dbt parse", "RUN EWS_HOME=/tmp/ews-build true"),
    ],
)
def test_the_dockerfile_check_catches_its_faults(compose: dict[str, Any], old: str, new: str) -> None:
    assert old in DOCKERFILE_TEXT
    assert check_dockerfile(DOCKERFILE_TEXT.replace(old, new), PYPROJECT, compose) != []


def test_the_lock_check_catches_a_different_pin_and_a_range() -> None:
    assert check_lock(PYPROJECT, LOCK_TEXT.replace("statsmodels==0.15.0", "statsmodels==0.14.4")) != []
    assert check_lock(PYPROJECT, LOCK_TEXT.replace("great_expectations==", "great-expectations>=")) != []
    loose = copy.deepcopy(PYPROJECT)
    loose["project"]["dependencies"].append("requests>=2")
    assert check_lock(loose, LOCK_TEXT) != []


def test_the_initdb_check_catches_a_password_in_the_sql() -> None:
    leaky = INITDB_TEXT.replace(":'airflow_password'", "'${AIRFLOW_DB_PASSWORD}'").replace("<<'SQL'", "<<SQL")
    assert len(check_initdb(leaky)) >= 2


# --- the init job's script ------------------------------------------------------------------------------------------


def test_login_passwords_come_from_the_environment_and_match_the_job_urls() -> None:
    env = {"EWS_LOADER_PASSWORD": "l" * 24, "EWS_TRANSFORMER_PASSWORD": "t" * 24, "EWS_MODELER_PASSWORD": "m" * 24,
           "EWS_LOADER_DATABASE_URL": f"postgresql://ews_loader_login:{'l' * 24}@postgres:5432/ews"}
    assert ews_init.passwords_from_env(ews_init.LOGINS, env) == {
        "ews_loader_login": "l" * 24, "ews_transformer_login": "t" * 24, "ews_modeler_login": "m" * 24}
    with pytest.raises(ews_init.InitError, match="EWS_MODELER_PASSWORD"):
        ews_init.passwords_from_env(ews_init.LOGINS, {**env, "EWS_MODELER_PASSWORD": ""})
    # a password with URL-reserved characters would be cut short in the job's URL
    bad = {**env, "EWS_LOADER_PASSWORD": "ab@cd/ef",
           "EWS_LOADER_DATABASE_URL": "postgresql://ews_loader_login:ab@cd/ef@postgres/ews"}
    with pytest.raises(ews_init.InitError, match="URL-safe"):
        ews_init.passwords_from_env(ews_init.LOGINS, bad)


def test_the_admin_password_file_is_private_and_airflow_reads_it(tmp_path: Path) -> None:
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    path = tmp_path / "auth" / "passwords.json"
    env = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(path), "AIRFLOW_ADMIN_PASSWORD": 'p"w\\x'}
    assert ews_init.main(["admin-password"], env) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open() as stream:
        assert SimpleAuthManager._get_passwords(stream) == {"admin": 'p"w\\x'}
    assert ews_init.main(["admin-password"], {**env, "AIRFLOW_ADMIN_PASSWORD": ""}) == 1


@pytest.fixture(scope="module")
def postgres16() -> Iterator[tuple[str, str]]:
    """A PostgreSQL 16 server (pgserver's, as in the postgres:16 image) with password authentication for all but
    its superuser: (socket folder, superuser URL)."""
    if shutil.which("psql") is None:
        pytest.skip("psql is needed to run the initdb script")
    import pgserver

    folder = tempfile.mkdtemp(prefix="ews-pg16-")
    server = pgserver.get_server(folder, cleanup_mode="delete")
    try:
        admin = server.get_uri()
        conn = psycopg2.connect(admin)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("show hba_file")
            Path(cur.fetchone()[0]).write_text("local all postgres trust\nlocal all all scram-sha-256\n")
            cur.execute("select pg_reload_conf()")
        conn.close()
        yield folder, admin
    finally:
        server.cleanup()


def _url(user: str, password: str, socket: str, database: str = "ews") -> str:
    return f"postgresql://{user}:{quote(password, safe='')}@/{database}?host={socket}"


def _can_log_in(user: str, password: str, socket: str, database: str = "ews") -> bool:
    try:
        psycopg2.connect(_url(user, password, socket, database)).close()
        return True
    except psycopg2.OperationalError:
        return False


def test_the_init_chain_on_postgres_16(postgres16: tuple[str, str], tmp_path: Path) -> None:
    """initdb script -> `ews warehouse migrate` as the owner ews -> the jobs' logins, as airflow-init runs them."""
    from warning_models.warehouse import migrate

    socket, admin = postgres16
    canary = tmp_path / "shell-ran"
    airflow_password = "air'flow; drop database postgres; --"
    ews_password = f"ews$(touch {canary})`touch {canary}`'"
    env = {**os.environ, "PGHOST": socket, "POSTGRES_USER": "postgres",
           "AIRFLOW_DB_PASSWORD": airflow_password, "EWS_WAREHOUSE_PASSWORD": ews_password}
    subprocess.run(["bash", str(DOCKER / "initdb" / "01-databases.sh")], env=env, check=True, capture_output=True)
    assert not canary.exists()
    # each owner reaches its own database only
    assert _can_log_in("airflow", airflow_password, socket, "airflow")
    assert not _can_log_in("airflow", airflow_password, socket, "ews")
    assert not _can_log_in("ews", ews_password, socket, "airflow")

    owner_url = _url("ews", ews_password, socket)
    assert "0007_job_roles" in migrate(owner_url)  # as the owner, not a superuser: PostgreSQL 16's CREATEROLE rules

    passwords = {"ews_loader_login": "loader-pw-1", "ews_transformer_login": "transformer-pw",
                 "ews_modeler_login": "modeler-pw", "superset": "bi-pw"}
    with psycopg2.connect(owner_url) as conn:
        done = ews_init.ensure_logins(conn, ews_init.LOGINS, passwords)
    conn.close()
    assert done == [f"{login.name}: created, member of {login.role}" for login in ews_init.LOGINS]

    job_roles = {login.role for login in ews_init.LOGINS}
    with psycopg2.connect(admin) as conn, conn.cursor() as cur:
        for login in ews_init.LOGINS:
            cur.execute("select rolcanlogin, rolsuper, rolcreaterole, rolpassword like 'SCRAM-SHA-256$%%' "
                        "from pg_authid where rolname = %s", (login.name,))
            assert cur.fetchone() == (True, False, False, True)
            for role in job_roles:
                cur.execute("select pg_has_role(%s, %s, 'member')", (login.name, role))
                assert cur.fetchone()[0] is (role == login.role), (login.name, role)
        # the password never reached the server as text: the statements carried libpq's SCRAM verifier
        cur.execute("select count(*) from pg_authid where rolpassword like any(%s)",
                    ([f"%{p}%" for p in passwords.values()],))
        assert cur.fetchone()[0] == 0
    conn.close()

    for name, password in passwords.items():
        conn = psycopg2.connect(_url(name, password, socket))
        with conn.cursor() as cur:
            cur.execute("select current_user, current_setting('default_transaction_read_only')")
            assert cur.fetchone() == (name, "on" if name == "superset" else "off")
        conn.close()
    # the jobs connect with their role set at connection start (warning_models.roles)
    conn = psycopg2.connect(_url("ews_loader_login", "loader-pw-1", socket) + "&options=-c%20role%3Dews_loader")
    with conn.cursor() as cur:
        cur.execute("select current_user")
        assert cur.fetchone() == ("ews_loader",)
    conn.close()

    # run again (every `docker compose up`): a changed password replaces the old one, nothing else changes
    with psycopg2.connect(owner_url) as conn:
        again = ews_init.ensure_logins(conn, ews_init.LOGINS, {**passwords, "ews_loader_login": "loader-pw-2"})
    conn.close()
    assert again[0] == "ews_loader_login: password updated, member of ews_loader"
    assert _can_log_in("ews_loader_login", "loader-pw-2", socket)
    assert not _can_log_in("ews_loader_login", "loader-pw-1", socket)


def test_logins_before_the_migrations_fail_clearly(postgres16: tuple[str, str]) -> None:
    _, admin = postgres16
    conn = psycopg2.connect(admin)
    try:
        fake = ews_init.Login("ews_nobody_login", "ews_no_such_role", "X")  # type: ignore[arg-type]
        with pytest.raises(ews_init.InitError, match="ews warehouse migrate"):
            ews_init.ensure_logins(conn, [fake], {"ews_nobody_login": "pw"})
    finally:
        conn.rollback()
        conn.close()


def test_the_env_example_says_which_variables_are_required() -> None:
    lines = ENV_EXAMPLE_TEXT.splitlines()
    for i, line in enumerate(lines):
        name = line.split("=", 1)[0]
        if "=" not in line or line.startswith("#"):
            continue
        comment = []
        for above in reversed(lines[:i]):
            if not above.startswith("#"):
                break
            comment.insert(0, above)
        said = " ".join(comment)
        assert ("Required." in said) is (name in REQUIRED_VARIABLES), (name, said)
        assert ("Optional." in said) is (name in OPTIONAL_VARIABLES), (name, said)
    assert "Fernet.generate_key()" in ENV_EXAMPLE_TEXT


def test_the_celery_executor_of_the_pinned_lock_imports() -> None:
    """The compose file's executor loads with the pinned packages (celery 5.7 dropped a helper the celery provider
    imports: the lock pins celery 5.6)."""
    import importlib

    module = importlib.import_module("airflow.providers.celery.executors.celery_executor")
    assert module.CeleryExecutor.__name__ == "CeleryExecutor"
