"""Ctrl-C in the middle of a command ends it with 130 and one line, never a traceback."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def test_output_piped_into_a_reader_that_left(tmp_path: Path) -> None:
    # `textdesk lint --costs | head -1`: once head has its line it exits, and the
    # next write fails. The read end is closed before the command writes at all,
    # so the failure happens on every run, not at a lucky moment.
    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bot.cli", "lint", "--costs", str(ROOT / "flows")],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
        )
    finally:
        os.close(write)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr == ""
    assert proc.returncode == 141  # as a shell reports a command ended by SIGPIPE


def test_the_start_banner_is_logged_line_by_line(caplog: pytest.LogCaptureFixture) -> None:
    # aiohttp prints its banner as one string with a line break; logged whole, the
    # text format would show the break escaped ("...========\\n(Press CTRL+C to quit)").
    from bot.commands import serve

    with caplog.at_level(logging.INFO, logger="textdesk"):
        serve._log_lines("======== Running on http://127.0.0.1:8080 ========\n(Press CTRL+C to quit)")
    assert [r.getMessage() for r in caplog.records] == [
        "======== Running on http://127.0.0.1:8080 ========", "(Press CTRL+C to quit)"
    ]
