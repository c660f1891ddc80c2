"""Schemathesis against the live server and the committed openapi.yaml: the spec and the code cannot disagree."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(tmp_path):
    port = free_port()
    # Fuzzing sends thousands of requests from one address: rate limits would answer most of them with a 429.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}", "RATE_LIMIT_ENABLED": "0"}
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: nobody reads a pipe while Schemathesis runs
    server = subprocess.Popen(
        [str(BIN / "eventledger"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.skipif(shutil.which("st", path=str(BIN)) is None, reason="schemathesis is not installed")
def test_schemathesis_finds_no_failure(live_server):
    # positive_data_acceptance is the one check left out: a cursor is opaque and signed, so no
    # schema can say which strings are valid, and an invented one is rightly refused with a 400.
    result = subprocess.run(
        [
            str(BIN / "st"),
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            live_server,
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"),
            # One worker: Hypothesis parsing in two threads at once trips a CPython 3.11.7 ast bug
            # ("AST constructor recursion depth mismatch") now and then.
            "--workers",
            "1",
            "--seed",
            os.environ.get("SCHEMATHESIS_SEED", "20261129"),
            # The seed fixes the run; examples replayed from an earlier run's database would not (and
            # replaying them trips a CPython 3.11.7 ast bug inside Hypothesis on JSON request bodies).
            "--generation-database",
            "none",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
