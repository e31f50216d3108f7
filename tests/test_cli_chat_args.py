"""``textdesk chat`` refuses unusable arguments with one line and exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def chat(*argv: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", *argv],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, input="/quit\n",
        capture_output=True, text=True, timeout=30,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


@pytest.mark.parametrize(("db", "message"), [
    ("", "--db should be the path of a SQLite database file, got ''"),
    ("{tmp}", "is a folder"),
])
def test_db_that_cannot_be_a_database_file(db: str, message: str, tmp_path: Path) -> None:
    code, err = chat("--db", db.format(tmp=tmp_path))
    assert code == 2
    assert err.startswith("textdesk chat: error: --db should be") and message in err
