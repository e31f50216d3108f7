"""``python run.py`` that cannot start says why in one line, with a meaningful exit code.

Each case runs the real server as a subprocess; none of them may print a traceback.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FLOWS, ROOT

CARRIER_SECRETS = ("TEXTDESK_", "TWILIO_", "VONAGE_", "PLIVO_", "TELNYX_", "BANDWIDTH_", "SINCH_")


def serve(*argv: str, env: dict[str, str] | None = None, twilio: bool = True) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(CARRIER_SECRETS)}
    environ.update({"PYTHONPATH": str(ROOT), **({"TWILIO_AUTH_TOKEN": "t"} if twilio else {}), **(env or {})})
    done = subprocess.run(
        [sys.executable, "run.py", "--flows", str(FLOWS), *argv],
        cwd=ROOT, env=environ, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


def test_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = serve("--port", str(port), "--db", str(tmp_path / "t.db"))
    assert code == 1
    assert "textdesk: error: cannot start:" in err and "address already in use" in err


def test_host_that_does_not_resolve(tmp_path: Path) -> None:
    code, err = serve("--host", "999.1.1.1", "--port", "0", "--db", str(tmp_path / "t.db"))
    assert code == 2
    assert "--host/TEXTDESK_HOST should be an address of this machine" in err and "'999.1.1.1'" in err


def test_db_that_is_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("shopping list\n" * 100)
    code, err = serve("--port", "0", "--db", str(db))
    assert code == 1
    assert f"cannot open database {db}: file is not a database" in err
    assert db.read_text() == "shopping list\n" * 100  # untouched


def test_db_with_a_newer_schema(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    code, err = serve("--port", "0", "--db", str(db))
    assert code == 1
    assert "schema version 999, newer than this textdesk" in err
@pytest.mark.parametrize("setting", [["--host", ""], ["--host", "  "]])
def test_empty_host_is_refused_not_all_interfaces(setting: list[str], tmp_path: Path) -> None:
    # aiohttp would read an empty host as "every interface": 127.0.0.1 silently
    # becoming 0.0.0.0 because of an empty TEXTDESK_HOST= line.
    code, err = serve(*setting, "--port", "0", "--db", str(tmp_path / "t.db"))
    assert code == 2
    assert "--host/TEXTDESK_HOST should be" in err


def test_no_carrier_set_up_is_refused(tmp_path: Path) -> None:
    code, err = serve("--port", "0", "--db", str(tmp_path / "t.db"), twilio=False)
    assert code == 2
    assert "textdesk: error: no carrier is set up" in err and "--insecure-dev" in err
    assert not (tmp_path / "t.db").exists()  # refused before anything was opened


def test_one_carrier_without_twilio_is_enough(tmp_path: Path) -> None:
    # A Sinch-only line: no Twilio token needed, no insecure-mode warning. The
    # port is taken so the server stops right after the carrier check: exit 1
    # "cannot start" proves it got past it (2 would be the configuration refusal).
    sinch = {"SINCH_WEBHOOK_SECRET": "s" * 20, "SINCH_SERVICE_PLAN_ID": "plan", "SINCH_API_TOKEN": "token"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = serve("--port", str(port), "--db", str(tmp_path / "t.db"), env=sinch, twilio=False)
    assert code == 1, err
    assert "address already in use" in err
    assert "INSECURE" not in err


def test_a_half_set_up_carrier_is_refused(tmp_path: Path) -> None:
    code, err = serve("--port", "0", "--db", str(tmp_path / "t.db"), env={"SINCH_WEBHOOK_SECRET": "s" * 20},
                      twilio=False)
    assert code == 2
    assert "textdesk: error:" in err and "SINCH_" in err
