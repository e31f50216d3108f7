"""Conversation tests written to break the runner: long cases, huge waits, files in any order.

Each test writes a real flow and real transcript files into a temporary
folder and runs them through ``run_suite`` or ``textdesk test`` itself, as an
editor would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.flows import load_flows
from bot.transcripts import format_failure, read_transcripts, run_suite

SHOP = """\
flow: shop
start: menu
settings:
  brand: Spoke Shop
  idle_timeout: 10m
  welcome_back: Welcome back!
states:
  menu:
    say: Hi! Reply 1 for hours.
    choices:
      - keywords: ["1"]
        go: hours
    otherwise:
      say: Please reply 1.
  hours:
    say: We're open 9-5.
    final: true
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A flows folder with the shop flow and an empty tests/ folder; the cwd is its parent."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows" / "media").mkdir(parents=True)
    (tmp_path / "flows" / "tests").mkdir()
    (tmp_path / "flows" / "shop.yaml").write_text(SHOP, encoding="utf-8")
    return tmp_path / "flows"


def write(text: str, name: str) -> Path:
    path = Path("flows/tests") / name
    path.write_text(text, encoding="utf-8")
    return path


async def failures(files: list[Path], tmp_path: Path) -> list[str]:
    flows = load_flows("flows")
    transcripts, findings = read_transcripts(files, flows)
    assert findings == []
    suite = await run_suite(flows, transcripts, workdir=tmp_path)
    return [format_failure(r) for r in suite.failed]


async def test_a_long_conversation_is_not_throttled_as_a_burst(shop: Path, tmp_path: Path) -> None:
    # The virtual clock stands still between steps, so every text of a test
    # arrives at the same instant; the server's flood limit (10 in 10 s) must
    # not turn the 11th step of a conversation into silence.
    steps = "".join(f"      - text: what {i}\n        contains: Please reply 1\n" for i in range(12))
    path = write(f"tests:\n  - name: a chatty customer\n    steps:\n      - hi\n{steps}", "long.yaml")
    assert await failures([path], tmp_path) == []


EXPIRES = """\
tests:
  - name: a quiet conversation starts over
    steps:
      - "1"
      - wait: 11m
        text: hello
        contains: Welcome back
"""
FAR_FUTURE = """\
tests:
  - name: a customer who comes back in a very long time
    steps:
      - "1"
      - wait: 2000000000000000d
        text: hello
        contains: Welcome back
"""


async def test_one_files_waits_do_not_change_another_files_results(shop: Path, tmp_path: Path) -> None:
    # Each test starts at the same instant: a far-future 'wait:' in one file
    # once left the next file's clock where 11 minutes no longer registered.
    expires, far = write(EXPIRES, "expires.yaml"), write(FAR_FUTURE, "far.yaml")
    assert await failures([expires, far], tmp_path) == []
    assert await failures([far, expires], tmp_path) == []


async def test_a_reply_in_brackets_is_quoted_like_any_text(shop: Path, tmp_path: Path) -> None:
    # Descriptions such as (no reply) are shown bare; a reply the flow really
    # sent must stay quoted even when it is written in brackets, or the two
    # read the same.
    (shop / "shop.yaml").write_text(SHOP.replace("We're open 9-5.", "(no reply)"), encoding="utf-8")
    path = write(
        """\
tests:
  - name: brackets
    steps:
      - text: "1"
        reply: (closed)
        contains: open
      - text: STOP
      - text: hi
        contains: anything
""",
        "brackets.yaml",
    )
    assert await failures([path], tmp_path) == [
        """\
FAIL flows/tests/brackets.yaml: brackets
  step 1 at flows/tests/brackets.yaml:4:9
    sent:     "1"
    reply:    expected "(closed)"
              got      "(no reply)"
    contains: expected a reply containing "open"
              got      (the reply shown above)
    decided:  choice route=menu/choice 1 score=100.0 fresh=new -->hours
  (2 later steps not run)"""
    ]
    path.write_text(path.read_text().replace("        reply: (closed)\n        contains: open\n", ""))
    assert await failures([path], tmp_path) == [
        """\
FAIL flows/tests/brackets.yaml: brackets
  step 3 at flows/tests/brackets.yaml:6:9
    sent:     "hi"
    contains: expected a reply containing "anything"
              got      (no reply)
    decided:  suppressed"""
    ]


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("a{99999999999}", "'regex' is not a valid regular expression: a repeat count like {n} is too large"),
        ("(?:" * 5000 + "a" + ")" * 5000, "'regex' is not a valid regular expression: groups are nested too deeply"),
        ("(?a)(?u)x", "'regex' is not a valid regular expression: ASCII and UNICODE flags are incompatible"),
        ("(a+)+$", "'regex' can take exponential time on some replies, and the test run would hang: a repeated group "
                   "holds a repeat of its own ('+', '*' or '{m,n}' inside '(...)+'); write it with one repeat, or "
                   "make the inner one atomic: (?>...) or a possessive '++'"),
    ],
)  # fmt: skip
def test_a_regex_python_cannot_or_should_not_run_is_a_finding(shop: Path, regex: str, message: str) -> None:
    path = write(f"tests:\n  - name: x\n    steps:\n      - text: hi\n        regex: '{regex}'\n", "regex.yaml")
    _, findings = read_transcripts([path], load_flows("flows"))
    assert [str(f) for f in findings] == [f"{path}:5:16: error: {message}"]


def test_a_flow_file_given_as_a_test_is_named_for_what_it_is(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 'textdesk test flows' (the flows folder, not its tests/) or 'textdesk test
    # flows/shop.yaml' once listed every key of the flow as unknown.
    assert main(["test", "flows"]) == 2
    assert capsys.readouterr().err == (
        "flows/shop.yaml:1:1: error: this is a flow file (it has 'states:'), not a conversation test; "
        "'textdesk test' runs the tests in the flows folder's tests/ (format: flows/tests/README.md)\n"
        "textdesk test: 1 error in the transcripts; no test was run\n"
    )


@pytest.mark.parametrize(("name", "shown"), [
    ('"hours\\nFAIL other: faked"', "a line break (U+000A)"),
    ('"hours\\u2028again"', "a line break (U+2028)"),
    ('"hours\\rFAIL"', "a line break (U+000D)"),
])  # fmt: skip
def test_a_test_name_is_one_line_of_text(shop: Path, capsys: pytest.CaptureFixture[str], name: str,
                                         shown: str) -> None:
    # A line break in a name split its report line: the rest read as a line of its own
    # ("FAIL other: faked").
    write(f"tests:\n  - name: {name}\n    steps:\n      - text: hi\n        contains: nope\n", "names.yaml")
    assert main(["test"]) == 2
    assert capsys.readouterr().err == (
        f"flows/tests/names.yaml:2:11: error: the test's 'name' should be one line of text (it names the test in "
        f"reports); it has {shown}\n"
        "textdesk test: 1 error in the transcripts; no test was run\n"
    )


def test_a_folded_name_over_several_lines_is_one_line(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write("tests:\n  - name: >\n      hours are\n      shown\n    steps:\n      - text: hi\n        contains: Hi\n",
          "folded.yaml")
    assert main(["test", "-v"]) == 0
    assert "  ok   hours are shown\n" in capsys.readouterr().out


def test_wait_of_zero_is_no_time_passing(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 'wait: 0s' is a duration, and says "right away": it was refused as not being one.
    write("tests:\n  - name: at once\n    steps:\n      - hi\n      - text: '1'\n        wait: 0s\n"
          "        contains: open 9-5\n      - text: '1'\n        wait: 0m\n        reply: We're open 9-5.\n",
          "zero.yaml")
    assert main(["test"]) == 0, capsys.readouterr()
    capsys.readouterr()
    # Alone, it would be a step that does nothing: said so, not taken silently.
    write("tests:\n  - name: nothing\n    steps:\n      - hi\n      - wait: 0s\n", "zero.yaml")
    assert main(["test"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "flows/tests/zero.yaml:5:15: error: 'wait: 0s' with no 'text' lets no time pass, so the step does nothing; "
        "wait longer than 0, or send a 'text'"
    )


def test_a_transcript_indented_with_tabs_says_to_use_spaces(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write("tests:\n\t- name: tabs\n\t  steps: [hi]\n", "tabs.yaml")
    assert main(["test"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "flows/tests/tabs.yaml:2:1: error: YAML syntax error: while scanning for the next token, found character "
        "'\\t' that cannot start any token (a tab: YAML takes spaces, not tabs; use spaces)"
    )
