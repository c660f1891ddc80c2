"""The `eventledger` command: init-db, seed, serve, openapi.

In-process tests use the Flask CLI runner on both backends; the console script and
`serve` run as real processes against a fresh SQLite file.
"""

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import SHIPPED_COUNTS, summary

from api.cli import main
from api.config import Config
from api.db import database
from api.tables import ALL_MODELS, Actor, Claim, Event, Source, dataset_revision

EVENTLEDGER = Path(sys.executable).with_name("eventledger")
if not EVENTLEDGER.exists():
    EVENTLEDGER = Path("/work/main/.venv/bin/eventledger")

SEEDED_SUMMARY = summary("created")
UNCHANGED_SUMMARY = summary("unchanged")


def table_names():
    with database.connection_context():
        return sorted(model._meta.table_name for model in ALL_MODELS if database.table_exists(model._meta.table_name))


def record_state():
    with database.connection_context():
        return {
            "revision": dataset_revision(),
            **{
                model.__name__: sorted(model.select(model.id, model.version, model.updated_at).tuples())
                for model in (Source, Actor, Event, Claim)
            },
        }


# --- In process (both backends) ------------------------------------------------------


def test_init_db_creates_the_tables(app, runner):
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=app.config["DATABASE_URL"].startswith("postgres"))
    assert table_names() == []

    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert result.output == f"Tables ready in {app.config['DATABASE_URL']}\n"
    assert table_names() == sorted(model._meta.table_name for model in ALL_MODELS)
    assert record_state() == {"revision": 0, "Source": [], "Actor": [], "Event": [], "Claim": []}

    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0, again.output
    assert record_state()["revision"] == 0


def test_init_db_keeps_existing_data(app, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    before = record_state()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert record_state() == before


def test_seed_prints_the_summary_and_is_idempotent(app, runner, client):
    url = app.config["DATABASE_URL"]

    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert first.output == f"Seeded {url}: {SEEDED_SUMMARY}\n"
    state = record_state()
    assert state["revision"] == 1
    assert [len(state[name]) for name in ("Source", "Actor", "Event", "Claim")] == [
        SHIPPED_COUNTS[name] for name in ("sources", "actors", "events", "claims")
    ]

    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert second.output == f"Seeded {url}: {UNCHANGED_SUMMARY}\n"
    assert record_state() == state

    body = client.get("/api/v1/events?limit=1").get_json()
    assert (body["meta"]["count"], body["meta"]["dataset_revision"]) == (SHIPPED_COUNTS["events"], 1)


def test_seed_creates_missing_tables(app, runner):
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=app.config["DATABASE_URL"].startswith("postgres"))
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert SEEDED_SUMMARY in result.output
    assert record_state()["revision"] == 1


def test_seed_with_an_explicit_data_directory(app, runner):
    from seed.loader import DATA_DIR

    result = runner.invoke(args=["seed", "--data", str(DATA_DIR)])
    assert result.exit_code == 0, result.output
    assert SEEDED_SUMMARY in result.output


def test_seed_refuses_a_missing_directory(app, runner, tmp_path):
    result = runner.invoke(args=["seed", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert record_state()["revision"] == 0


def test_seed_refuses_an_empty_directory(app, runner, tmp_path):
    result = runner.invoke(args=["seed", "--data", str(tmp_path)])
    assert result.exit_code == 1
    for name in ("sources", "actors", "events", "claims"):
        assert f"{tmp_path / name}.yaml: file is missing" in result.output
    assert record_state()["revision"] == 0


# --- The console script -------------------------------------------------------------


def script_env(tmp_path, **extra):
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "DATABASE_URL", "PORT", "HOST")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", **extra})
    return env


def run_script(tmp_path, *args, env=None):
    return subprocess.run(
        [str(EVENTLEDGER), *args],
        env=env or script_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_console_script_help_lists_the_commands(tmp_path):
    assert EVENTLEDGER.exists(), f"{EVENTLEDGER} is not installed"
    result = run_script(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert {"init-db", "seed", "serve", "openapi"} <= listed
    assert not (tmp_path / "cli.sqlite3").exists(), "--help must not touch the database"
    # eventledger's own options only: not Flask's (which app, .env files, debug mode).
    options = result.stdout.split("Options:", 1)[1].split("Commands:", 1)[0]
    assert {line.split()[0] for line in options.splitlines() if line.strip()} == {"--version", "--help"}
    assert "Flask" not in result.stdout


def test_console_script_version_is_eventledgers(tmp_path):
    from importlib.metadata import version

    result = run_script(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"eventledger {version('eventledger')}\n"


def test_a_postgresql_url_without_its_driver_is_one_line_naming_the_extra(tmp_path):
    # A Python that cannot import psycopg2, as one installed without the `postgres` extra.
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import importlib.util\n"
        "_find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *args: None if name == 'psycopg2' else _find(name, *args)\n"
    )
    env = script_env(tmp_path, DATABASE_URL="postgresql://127.0.0.1:5432/test", PYTHONPATH=str(blocker))
    result = run_script(tmp_path, "init-db", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: DATABASE_URL names PostgreSQL, but its driver is not installed: pip install 'eventledger[postgres]'"
    ]


def test_the_default_database_does_not_depend_on_the_directory(tmp_path):
    home = tmp_path / "home"
    env = {key: value for key, value in script_env(tmp_path).items() if key not in ("DATABASE_URL", "XDG_DATA_HOME")}
    env["HOME"] = str(home)
    expected = home / ".local" / "share" / "eventledger" / "eventledger.sqlite3"
    for directory in (tmp_path / "one", tmp_path / "two"):
        directory.mkdir()
        result = subprocess.run(
            [str(EVENTLEDGER), "init-db"], env=env, cwd=directory, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"Tables ready in sqlite:///{expected}\n"
    created = subprocess.run(
        [str(EVENTLEDGER), "keys", "create", "bot"], env=env, cwd=tmp_path / "one", capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    assert f"Database: sqlite:///{expected}" in created.stderr
    listed = subprocess.run(
        [str(EVENTLEDGER), "keys", "list"], env=env, cwd=tmp_path / "two", capture_output=True, text=True
    )
    assert "bot" in listed.stdout  # the key made in one directory is the one the other sees


def test_console_script_init_db_and_seed(tmp_path):
    database_file = tmp_path / "cli.sqlite3"
    url = f"sqlite:///{database_file}"

    init = run_script(tmp_path, "init-db")
    assert init.returncode == 0, init.stderr
    assert init.stdout == f"Tables ready in {url}\n"
    assert database_file.exists()

    first = run_script(tmp_path, "seed")
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"Seeded {url}: {SEEDED_SUMMARY}\n"
    second = run_script(tmp_path, "seed")
    assert second.returncode == 0, second.stderr
    assert second.stdout == f"Seeded {url}: {UNCHANGED_SUMMARY}\n"

    with contextlib.closing(sqlite3.connect(database_file)) as connection:
        assert connection.execute("SELECT revision FROM dataset_state WHERE id = 1").fetchone() == (1,)
        assert connection.execute("SELECT count(*) FROM event").fetchone() == (SHIPPED_COUNTS["events"],)
        assert connection.execute("SELECT count(*), max(version) FROM claim").fetchone() == (
            SHIPPED_COUNTS["claims"],
            1,
        )


def test_console_script_seed_error_exits_non_zero(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    result = run_script(tmp_path, "seed", "--data", str(data_dir))
    assert result.returncode == 1
    assert "nothing was written" in result.stderr
    assert f"{data_dir / 'sources.yaml'}: file is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_openapi_print(tmp_path):
    result = run_script(tmp_path, "openapi", "print")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/events" in document["paths"]


# --- serve, end to end ------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


@contextlib.contextmanager
def serving(tmp_path, log_name):
    """Run `eventledger serve` with one worker; yield its base URL once /readyz answers; always stop it.

    SIGTERM makes gunicorn's master stop its worker before it exits.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / log_name
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(EVENTLEDGER), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=script_env(tmp_path),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    pytest.fail(f"serve exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
                try:
                    status, body = get_json(f"{base}/readyz")
                    if status == 200:
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"serve not ready after 30 s:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.2)
            yield base, log_path
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)


def test_serve_creates_and_seeds_a_new_database(tmp_path):
    database_file = tmp_path / "cli.sqlite3"
    assert not database_file.exists()

    with serving(tmp_path, "first.log") as (base, log_path):
        status, body = get_json(f"{base}/api/v1/events?limit=200")
        assert status == 200
        assert body["meta"]["count"] == SHIPPED_COUNTS["events"]
        assert len(body["data"]) == SHIPPED_COUNTS["events"]
        assert body["meta"]["dataset_revision"] == 1
        status, body = get_json(f"{base}/api/v1/claims/beijing-fully-aware-of-operation")
        assert (status, body["data"]["status"]) == (200, "unverified")
    log = log_path.read_text(errors="replace")
    assert f"Seeding a new database: {SEEDED_SUMMARY}" in log
    # Threaded workers: a long streamed export must not be killed as a silent worker.
    assert "Using worker: gthread" in log
    assert database_file.exists()

    # A second start finds the data and does not seed again.
    with serving(tmp_path, "second.log") as (base, log_path):
        status, body = get_json(f"{base}/api/v1/events?limit=1")
        assert (body["meta"]["count"], body["meta"]["dataset_revision"]) == (SHIPPED_COUNTS["events"], 1)
    assert "Seeding" not in log_path.read_text(errors="replace")


def test_the_entry_point_builds_the_app_from_the_environment(tmp_path, monkeypatch):
    """`eventledger` is api.cli:main: its commands run on an app made by create_app (here in process)."""
    url = f"sqlite:///{tmp_path / 'entry.sqlite3'}"
    monkeypatch.setattr(Config, "DATABASE_URL", url)  # as DATABASE_URL in the environment sets it
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Tables ready in {url}\n"
    assert (tmp_path / "entry.sqlite3").is_file()
    database.close_all()


def test_a_database_password_is_never_printed():
    from api.config import display_url

    assert display_url("postgresql://user:s3cret@db:5432/eventledger") == "postgresql://user:***@db:5432/eventledger"
    assert display_url("postgresql://user@db/eventledger") == "postgresql://user@db/eventledger"
