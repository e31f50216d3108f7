"""Ctrl-C in the middle of a command ends it with 130 and one line, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ctrl_c_while_reading_an_input_file(tmp_path: Path) -> None:
    # A named pipe nobody writes to: the command blocks reading its CSV, so the
    # interrupt lands there every time, not at a lucky moment.
    pipe = tmp_path / "numbers.csv"
    os.mkfifo(pipe)
    env = {**os.environ, "TEXTDESK_API_TOKEN": "t" * 20, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "broadcast", str(pipe), "--text", "hi"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A child of a non-interactive shell may inherit SIGINT ignored; the operator's terminal would not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        time.sleep(2.0)  # imports done, blocked in open() of the pipe
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "Traceback" not in err, err
    assert err.strip() == "textdesk: interrupted"
    assert proc.returncode == 130
