"""Schemathesis against the live server and the committed openapi.yaml: the spec and the code cannot disagree.

Every phase runs: examples, coverage, fuzzing, and the stateful phase through the spec's OpenAPI links."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.skipif(shutil.which("st", path=str(BIN)) is None, reason="schemathesis is not installed")
def test_schemathesis_finds_no_failure(live_server, live_write_key):
    # Two checks are left out. positive_data_acceptance: a cursor is opaque and signed, so no schema can
    # say which strings are valid, and an invented one is rightly refused with a 400.
    # missing_required_header: a PATCH or DELETE without If-Match is a 428 Precondition Required (RFC 6585,
    # documented on each operation), which the check does not count among its expected 400/401/403/406/415/422.
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
            "positive_data_acceptance,missing_required_header",
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
            # A read-write key: the write operations are fuzzed too, not only refused with a 401. And
            # If-Match `*`: a PATCH checks its precondition before its body's schema (a 412 before a 422,
            # ARCHITECTURE.md), which the negative-data check would take for an invalid body accepted.
            "--header",
            f"Authorization: Bearer {live_write_key}",
            "--header",
            "If-Match: *",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # The stateful phase chains calls through the spec's OpenAPI links (a record read, then changed or
    # deleted with the ETag it was read with, its history, its related lists): it must have run, and
    # followed links, not been skipped for want of them.
    assert re.search(r"✅ Stateful", result.stdout), result.stdout[-3000:]
    covered = re.search(r"API Links:\s+(\d+) covered", result.stdout)
    assert covered and int(covered.group(1)) >= 5, result.stdout[-3000:]
