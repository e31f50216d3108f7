"""Every command refuses an empty, missing or wrong-kind path with one line and exit code 2.

An empty value (``--flows ""``, ``TEXTDESK_FLOWS=`` left blank, ``"$DIR"`` of
an unset variable) is the current folder to ``pathlib``: it once linted,
drew, tested or exported whatever YAML lay there. Run as an operator runs
them: a subprocess in a folder holding a real flow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHOP = """\
flow: shop
start: menu
states:
  menu:
    say: Hi! Reply 1 for hours.
    choices:
      - keywords: ["1"]
        go: hours
  hours:
    say: We're open 9-5.
    final: true
faqs:
  - id: parking
    question: Where can I park?
    answer: Behind the shop.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "flows" / "tests").mkdir(parents=True)
    (tmp_path / "flows" / "shop.yaml").write_text(SHOP, encoding="utf-8")
    (tmp_path / "flows" / "tests" / "shop.yaml").write_text("tests:\n  - name: hi\n    steps: [hi]\n")
    (tmp_path / "faqs.csv").write_text("id,question,alternates,answer,media\n")
    # What an empty path would quietly have read instead: the current folder.
    (tmp_path / "stray.yaml").write_text("not: [a flow\n")
    return tmp_path


def textdesk(folder: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


EMPTY_FLOWS = "--flows/TEXTDESK_FLOWS should be the folder of flow files, got ''"
FILE_FLOWS = "--flows/TEXTDESK_FLOWS should be the folder of flow files, but 'flows/shop.yaml' is a file"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["graph", "--flows", ""], f"textdesk graph: error: {EMPTY_FLOWS}"),
        (["chat", "--flows", " "], "textdesk chat: error: " + EMPTY_FLOWS.replace("''", "' '")),
        (["test", "--flows", ""], f"textdesk test: error: {EMPTY_FLOWS}"),
        (["faq", "export", "--flows", ""], f"textdesk faq export: error: {EMPTY_FLOWS}"),
        (["graph", "--flows", "flows/shop.yaml"], f"textdesk graph: error: {FILE_FLOWS}"),
        (["chat", "--flows", "flows/shop.yaml"], f"textdesk chat: error: {FILE_FLOWS}"),
        (["test", "--flows", "flows/shop.yaml"], f"textdesk test: error: {FILE_FLOWS}"),
        (["faq", "export", "--flows", "flows/shop.yaml"], f"textdesk faq export: error: {FILE_FLOWS}"),
        (["lint", ""], "textdesk lint: error: PATH should be a flow file or a folder of them, got ''"),
        (["test", "flows/tests", ""], "textdesk test: error: PATH should be a transcript file or a folder of them, "
                                      "got ''"),
        (["faq", "export", "--flow", ""], "textdesk faq export: error: --flow should be the path of a flow file, "
                                          "got ''"),
        (["faq", "export", "--flow", "flows"], "textdesk faq export: error: --flow should be the path of a flow "
                                               "file, but 'flows' is a folder"),
        (["lint", "--against", ""], "textdesk lint: error: --against should be the path of a SQLite database file, "
                                    "got ''"),
        (["lint", "--against", "flows"], "textdesk lint: error: --against should be the path of a SQLite database "
                                         "file, but 'flows' is a folder"),
        (["lint", "--format", "json", "--costs"], "textdesk lint: error: --costs prints text lines, which would "
                                                  "make the --format json output unreadable as JSON; run it "
                                                  "without --format json"),
        (["lint", "--format", "json", "--against", "faqs.csv"], "textdesk lint: error: --against prints text "
                                                                "lines, which would make the --format json output "
                                                                "unreadable as JSON; run it without --format json"),
        (["faq", "import", ""], "textdesk faq import: error: FILE.csv should be the path of a CSV file, got ''"),
        (["faq", "import", "flows"], "textdesk faq import: error: FILE.csv should be the path of a CSV file, but "
                                     "'flows' is a folder"),
    ],
)  # fmt: skip
def test_an_empty_or_wrong_kind_of_path_is_refused(folder: Path, argv: list[str], message: str) -> None:
    assert textdesk(folder, *argv) == (2, message + "\n")


@pytest.mark.parametrize("command", [["graph"], ["chat"], ["test"], ["lint"], ["faq", "export"]])
def test_an_empty_textdesk_flows_is_refused_not_read_as_the_current_folder(folder: Path, command: list[str]) -> None:
    code, err = textdesk(folder, *command, env={"TEXTDESK_FLOWS": ""})
    assert (code, err) == (2, f"textdesk {' '.join(command)}: error: {EMPTY_FLOWS}\n")


def test_the_same_commands_work_on_the_folder(folder: Path) -> None:
    # The refusals above are about the values, not the folder: with it they run.
    assert textdesk(folder, "graph")[0] == 0
    assert textdesk(folder, "lint")[0] == 0
    assert textdesk(folder, "test")[0] == 0
    assert textdesk(folder, "faq", "export", "--flow", "flows/shop.yaml")[0] == 0


def test_no_command_says_what_is_expected_on_stderr(folder: Path) -> None:
    # 'textdesk' alone printed the whole help to stdout and exited 2 with
    # nothing on stderr: a script saw a failure and no reason for it.
    done = subprocess.run([sys.executable, "-m", "bot.cli"], cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == (
        "textdesk: error: name a command: serve, chat, test, lint, graph, faq, send, broadcast, subscribers "
        "('textdesk --help' says what each does)"
    )
    assert done.stderr.startswith("usage: textdesk ")


def test_transcripts_in_sub_folders_of_tests_run_too(folder: Path) -> None:
    # An editor who sorted tests into flows/tests/returns/ had them silently
    # skipped: fewer tests ran, coverage looked as it did, and CI passed.
    test = "tests:\n  - name: {}\n    steps:\n      - text: hi\n        contains: Reply 1\n"
    (folder / "flows" / "tests" / "returns").mkdir()
    (folder / "flows" / "tests" / "returns" / "refunds.yaml").write_text(test.format("refunds"))
    (folder / "flows" / "tests" / ".drafts").mkdir()  # hidden, as for files: never read
    (folder / "flows" / "tests" / ".drafts" / "broken.yaml").write_text("tests: [\n")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "test"], cwd=folder,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "flows/tests/returns/refunds.yaml: 1 passed",
        "flows/tests/shop.yaml: 1 passed",
    ]


BIKE = SHOP.replace("Where can I park?", "Where can I park my 🚲 (über-bike)?")


def test_output_an_ascii_terminal_cannot_show_is_never_a_traceback(folder: Path) -> None:
    # A Windows console or a redirect in a non-UTF-8 locale: printing an emoji
    # once raised UnicodeEncodeError. Diagrams and CSV are UTF-8 files whatever
    # the terminal (Graphviz, Mermaid and Excel read them so); messages fall
    # back to escapes.
    (folder / "flows" / "shop.yaml").write_text(BIKE, encoding="utf-8")
    (folder / "flows" / "tests" / "shop.yaml").write_text(
        "tests:\n  - name: ünïcode 🚲\n    steps:\n      - text: hi\n        contains: 🚲\n", encoding="utf-8"
    )
    ascii_io = {"PYTHONIOENCODING": "ascii"}
    for argv in (["graph"], ["graph", "--format", "dot"], ["faq", "export"]):
        done = subprocess.run([sys.executable, "-m", "bot.cli", *argv], cwd=folder, capture_output=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT), **ascii_io}, timeout=60)
        assert (done.returncode, done.stderr) == (0, b""), done.stderr
        assert "Where can I park my 🚲 (über-bike)?" in done.stdout.decode("utf-8")
    code, err = textdesk(folder, "test", env=ascii_io)
    assert code == 1
    assert "Traceback" not in err



@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lint", "pipe.yaml"], "textdesk lint: error: PATH should be a flow file or a folder of them, but "
                                "'pipe.yaml' is a named pipe"),
        (["test", "pipe.yaml"], "textdesk test: error: PATH should be a transcript file or a folder of them, but "
                                "'pipe.yaml' is a named pipe"),
        (["faq", "export", "--flow", "pipe.yaml"], "textdesk faq export: error: --flow should be the path of a flow "
                                                   "file, but 'pipe.yaml' is a named pipe"),
        (["lint", "--against", "pipe.yaml"], "textdesk lint: error: --against should be the path of a SQLite "
                                             "database file, but 'pipe.yaml' is a named pipe"),
        (["lint", "/dev/null"], "textdesk lint: error: PATH should be a flow file or a folder of them, but "
                                "'/dev/null' is a device"),
    ],
)  # fmt: skip
def test_a_pipe_or_device_as_a_path_is_refused_not_waited_on(folder: Path, argv: list[str], message: str) -> None:
    # open() of a named pipe waits for a writer: the command hung with no word.
    os.mkfifo(folder / "pipe.yaml")
    assert textdesk(folder, *argv) == (2, message + "\n")


def test_faq_export_into_a_named_pipe_writes_into_it(folder: Path) -> None:
    # The atomic write renamed a temp file over the pipe: the reader got nothing and the
    # pipe was gone (and over /dev/null, as root, /dev/null would be a regular file).
    pipe = folder / "out.csv"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there: the writer's open does not wait
    try:
        assert textdesk(folder, "faq", "export", "--flow", "flows/shop.yaml", "-o", "out.csv") == (
            0, "wrote 1 FAQs to out.csv\n")
        received = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert pipe.is_fifo()
    assert received.startswith(b"\xef\xbb\xbfid,question,alternates,answer,media\r\nparking,Where can I park?")
