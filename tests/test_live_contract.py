"""Schemathesis against the live server and the committed openapi.yaml: the spec and the code cannot disagree."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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
