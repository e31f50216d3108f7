"""``textdesk chat`` shows control characters a customer typed as escapes, never raw to the terminal.

A script piped to the chat (``textdesk chat < script.txt``, or a line pasted
with an escape sequence in it) is echoed after ``you:``, and what a pattern
saved from it is listed by ``/vars``: raw, an ESC sequence cleared or
recoloured the operator's terminal and a bell rang. The text the flow gets is
unchanged: only what is printed is escaped, as log lines are.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

NOTE = """\
flow: notes
start: ask
states:
  ask:
    say: Leave a note.
    choices:
      - pattern: '(?P<note>.+)'
        go: done
  done:
    say: "Saved: {note}"
    final: true
"""


def test_control_characters_are_printed_escaped(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "notes.yaml").write_text(NOTE, encoding="utf-8")
    typed = "\x1b[2Jwipe\x07\u202eevil\n/vars\n/\x1b[31m\n".encode()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--flows", str(tmp_path / "flows")],
        input=typed, capture_output=True, cwd=ROOT, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("utf-8")
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in out
    lines = out.splitlines()
    assert "you: \\x1b[2Jwipe\\x07\\u202eevil" in lines
    # Saved as patterns read the text (invisible characters dropped), shown escaped.
    assert "note = \\x1b[2Jwipe\\x07evil" in lines
    assert "unknown command /\\x1b[31m; try /reset /state /vars /help /quit (// sends a text starting with /)" in lines


def test_a_closed_stdin_or_stdout_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    # 'textdesk chat <&-' (or a service manager that closes the descriptors):
    # Python then has no sys.stdin, and the chat crashed on it.
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "notes.yaml").write_text(NOTE, encoding="utf-8")
    command = f"exec {sys.executable} -m bot.cli chat --flows {tmp_path / 'flows'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    closed_in = subprocess.run(["sh", "-c", command + " <&-"], capture_output=True, text=True, env=env, timeout=60)
    assert (closed_in.returncode, closed_in.stdout) == (2, "")
    assert closed_in.stderr == "textdesk chat: error: standard input is closed: the chat reads what you type there\n"
    closed_out = subprocess.run(["sh", "-c", command + " >&-"], input="hi\n", capture_output=True, text=True,
                                env=env, timeout=60)
    assert (closed_out.returncode, closed_out.stderr) == (
        2, "textdesk chat: error: standard output is closed: the chat prints the replies there\n"
    )
    graph = subprocess.run(["sh", "-c", f"exec {sys.executable} -m bot.cli graph --flows {tmp_path / 'flows'} >&-"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in graph.stderr
