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


def test_db_in_a_folder_that_does_not_exist_is_refused_not_created(tmp_path: Path) -> None:
    # A typo'd folder made a new database (and its folders) somewhere nobody would look.
    code, err = chat("--db", str(tmp_path / "dta" / "sub" / "chat.db"))
    assert code == 2
    assert err == (f"textdesk chat: error: --db {tmp_path / 'dta' / 'sub' / 'chat.db'}: the folder "
                   f"{tmp_path / 'dta' / 'sub'} does not exist; create it first, or check the path\n")
    assert list(tmp_path.iterdir()) == []
    # A new file in a folder that exists is still created, as documented.
    code, err = chat("--db", str(tmp_path / "chat.db"))
    assert code == 0, err
    assert (tmp_path / "chat.db").is_file()
