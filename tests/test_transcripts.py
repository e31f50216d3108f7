"""Conversation transcripts: every file in flows/tests runs here, then the runner itself.

The first tests are the shipped transcripts, one pytest test per transcript test,
so CI fails when a flow and its tests disagree and says which conversation. The
rest drive the runner and ``textdesk test`` on a small flow written into a
temporary folder, comparing reports and findings whole, as an editor reads them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from bot.cli import main
from bot.flows import FlowSet, load_flows
from bot.transcripts import (
    Runner,
    check_transcript,
    find_files,
    format_failure,
    load_transcript_text,
    parse_transcript,
    read_transcripts,
    run_suite,
)
from bot.transcripts.run import Touched, business_number
from bot.types import ConversationKey

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "flows" / "tests"


@functools.cache
def retail_flows() -> FlowSet:
    return load_flows(ROOT / "flows")


def _shipped() -> list[tuple[str, str]]:
    """(file, test name) for every shipped transcript test; a broken file is one entry."""
    out: list[tuple[str, str]] = []
    for path in find_files([TRANSCRIPTS]):
        transcript, findings = parse_transcript(path)
        if transcript is None or findings:
            out.append((path.name, ""))
            continue
        out.extend((path.name, case.name) for case in transcript.cases)
    return out


@pytest.mark.parametrize(("file", "name"), _shipped(), ids=[f"{f}::{n}" for f, n in _shipped()])
async def test_shipped_transcript(file: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # positions read flows/tests/<file>:line:col, as in a terminal
    flows = retail_flows()
    transcripts, findings = read_transcripts([Path("flows/tests") / file], flows)
    assert not findings, "\n".join(str(f) for f in findings)
    (transcript,) = transcripts
    (case,) = [c for c in transcript.cases if c.name == name]
    async with Runner(flows, tmp_path / "run.db") as runner:
        result = await runner.run_case(transcript, case)
    assert result.passed, format_failure(result)


async def test_shipped_transcripts_cover_the_retail_flow(tmp_path: Path) -> None:
    flows = retail_flows()
    transcripts, findings = read_transcripts(find_files([TRANSCRIPTS]), flows)
    assert not findings
    suite = await run_suite(flows, transcripts, every_flow=True, workdir=tmp_path)
    assert not suite.failed
    (coverage,) = suite.coverage
    assert coverage.flow.name == "retail"
    assert {p.name: (p.reached, p.total) for p in coverage.parts} == {
        "states": (11, 11),
        "routes": (28, 28),
        "FAQs": (31, 31),
    }
    assert coverage.overall == 100.0


# -- the runner, on a small flow --------------------------------------------------

SHOP = """\
flow: shop
start: menu
settings:
  brand: Spoke Shop
  idle_timeout: 10m
  welcome_back: Welcome back!
global:
  - keywords: [MENU]
    go: menu
states:
  menu:
    say: Hi! Reply 1 for hours or 2 for a repair.
    choices:
      - keywords: ["1"]
        go: hours
      - keywords: ["2"]
        go: repair_ask
    otherwise:
      say: Please reply 1 or 2.
  hours:
    say: We're open 9-5.
    media: [shop.png]
    final: true
  repair_ask:
    say: What's your ticket number? (like R-1234)
    choices:
      - pattern: '\\bR-?(?P<ticket>\\d{4})\\b'
        go: repair_status
  repair_status:
    say: Ticket R-{ticket} is ready.
    final: true
faqs:
  - id: tubeless
    question: Do you set up tubeless tyres?
    answer: Yes, $25 per wheel.
  - id: parking
    question: Is there parking?
    answer: Free parking behind the shop.
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A flows folder with the shop flow and an empty tests/ folder; the cwd is its parent."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows" / "media").mkdir(parents=True)
    (tmp_path / "flows" / "media" / "shop.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "flows" / "tests").mkdir()
    (tmp_path / "flows" / "shop.yaml").write_text(SHOP, encoding="utf-8")
    return tmp_path / "flows"


def write(text: str, name: str = "shop.yaml") -> str:
    path = Path("flows/tests") / name
    path.write_text(text, encoding="utf-8")
    return str(path)


async def run(text: str, tmp_path: Path) -> list[str]:
    """Run one transcript text on the shop flow: the failure reports, in order."""
    flows = load_flows("flows")
    transcript = load_transcript_text(text, "flows/tests/shop.yaml")
    assert check_transcript(transcript, flows) == []
    suite = await run_suite(flows, [transcript], workdir=tmp_path)
    return [format_failure(r) for r in suite.failed]


async def test_passing_steps_check_reply_state_vars_media_and_faq(shop: Path, tmp_path: Path) -> None:
    text = """\
tests:
  - name: everything holds
    steps:
      - text: hi
        reply: Hi! Reply 1 for hours or 2 for a repair.
        state: menu
        media: false
        segments_at_most: 1
      - text: "2"
        contains: [TICKET NUMBER, "(like"]
        not_contains: ready
        regex: 'r-\\d{4}'
        vars: {ticket: ~}
      - text: it's r1234 thx
        reply: Ticket R-1234 is ready.
        state: repair_status
        vars: {ticket: "1234"}
      - text: do you set up tubeless?
        faq: tubeless
        state: repair_status
      - MENU
      - text: "1"
        media: true
        no_reply: false
"""
    assert await run(text, tmp_path) == []


async def test_a_failing_step_reports_expected_and_got_with_its_position(shop: Path, tmp_path: Path) -> None:
    text = """\
tests:
  - name: the repair ticket
    steps:
      - text: "2"
        state: repair_ask
      - text: R-12
        reply: Ticket R-12 is ready.
        contains: [ready, R-12]
        state: repair_status
        vars: {ticket: "12"}
        faq: tubeless
        media: true
      - text: never sent
"""
    assert await run(text, tmp_path) == [
        """\
FAIL flows/tests/shop.yaml: the repair ticket
  step 2 at flows/tests/shop.yaml:6:9
    sent:            "R-12"
    reply:           expected "Ticket R-12 is ready."
                     got      "Sorry, I didn't understand that."
    contains:        expected a reply containing "ready"
                     got      (the reply shown above)
    contains:        expected a reply containing "R-12"
                     got      (the reply shown above)
    media:           expected media
                     got      no media
    state:           expected repair_status
                     got      repair_ask
    variable ticket: expected "12"
                     got      (not set)
    faq:             expected tubeless
                     got      no FAQ (fallback)
    decided:         fallback repair_ask->repair_ask
  (1 later step not run)"""
    ]


async def test_multi_line_replies_are_shown_as_blocks_with_the_first_difference(
    shop: Path, tmp_path: Path
) -> None:
    text = """\
tests:
  - name: welcome back
    steps:
      - "1"
      - wait: 11m
        text: what
        reply: |
          Welcome back!

          Hi! Reply 1 for hours or 3 for a repair.
"""
    assert await run(text, tmp_path) == [
        """\
FAIL flows/tests/shop.yaml: welcome back
  step 2 at flows/tests/shop.yaml:5:9
    sent:    (after waiting 11m) "what"
    reply:   expected
               | Welcome back!
               |
               | Hi! Reply 1 for hours or 3 for a repair.
             got
               | Welcome back!
               |
               | Hi! Reply 1 for hours or 2 for a repair.
             (first difference at line 3, column 26 of the text)
    decided: start route=restart fresh=expired menu->menu"""
    ]


async def test_waiting_less_than_the_idle_timeout_keeps_the_conversation(shop: Path, tmp_path: Path) -> None:
    text = """\
tests:
  - name: still there after 9 minutes
    steps:
      - "2"
      - wait: 9m
      - wait: 59s
        text: R-1234
        state: repair_status
  - name: gone after 10 minutes and a second
    steps:
      - "2"
      - wait: 601s
        text: R-1234
        contains: Welcome back
        state: menu
"""
    assert await run(text, tmp_path) == []


async def test_start_state_and_variables_are_written_through_the_store(shop: Path, tmp_path: Path) -> None:
    text = """\
tests:
  - name: start in the middle
    start: {state: repair_status, vars: {ticket: "4321"}}
    steps:
      - text: what was it again
        state: repair_status
        vars: {ticket: "4321"}
"""
    assert await run(text, tmp_path) == []
    flows = load_flows("flows")
    transcript = load_transcript_text(text, "t.yaml")
    async with Runner(flows, tmp_path / "start.db") as runner:
        result = await runner.run_case(transcript, transcript.cases[0])
        assert result.passed
        # Starting in a state is not entering it: coverage counts only what a text reached.
        assert result.touched.states == set()
        messages = await runner.store.messages(ConversationKey("test", result.customer, "+15550000000"))
    assert [m.direction for m in messages] == ["in", "in", "out"]


async def test_no_reply_and_segment_budgets(shop: Path, tmp_path: Path) -> None:
    long_answer = "Free parking behind the shop. " * 12
    (shop / "shop.yaml").write_text(SHOP.replace("Free parking behind the shop.", long_answer.strip()))
    text = """\
tests:
  - name: silence after STOP
    steps:
      - text: STOP
        contains: Spoke Shop
        segments_at_most: 1
      - text: hi
        no_reply: true
  - name: a long answer
    steps:
      - text: is there parking
        segments_at_most: 2
  - name: STOP is not silence
    steps:
      - text: stop
        no_reply: true
"""
    reports = await run(text, tmp_path)
    assert len(reports) == 2
    assert reports[0].splitlines()[2:6] == [
        '    sent:             "is there parking"',
        "    segments_at_most: expected at most 2 per message",
        "                      got      message 1 is 3 segments (GSM-7, 359 units)",
        "    decided:          faq faq=parking score=100.0 phrasing='Is there parking?' fresh=new -->menu",
    ]
    assert reports[1].splitlines()[3:5] == [
        "    no_reply: expected no reply",
        '              got      "Spoke Shop: You are unsubscribed and will receive no more messages from this '
        'number. Reply START to resubscribe."',
    ]


async def test_media_sent_by_the_customer_and_numbers_abroad(shop: Path, tmp_path: Path) -> None:
    flows = load_flows("flows")
    text = """\
from: "+44 7700 900123"
tests:
  - name: one
    steps:
      - text: "1"
        media: false
        contains: https://textdesk.test/media/shop.png
  - name: two
    steps:
      - media: [photo, video/mp4, damage.PNG, https://example.com/a.gif]
"""
    transcript = load_transcript_text(text, "t.yaml")
    assert transcript.customer == "+447700900123"
    media = transcript.cases[1].steps[0].media
    assert [(m.content_type, m.url.rsplit("/", 1)[-1]) for m in media] == [
        ("image/jpeg", "1.jpg"),
        ("video/mp4", "2.mp4"),
        ("image/png", "damage.PNG"),
        ("image/gif", "a.gif"),
    ]
    assert transcript.cases[1].steps[0].text == ""
    suite = await run_suite(flows, [transcript], workdir=tmp_path)
    assert not suite.failed
    # Each test is a new customer: the given number, then the next ones.
    assert [r.customer for r in suite.results] == ["+447700900123", "+447700900124"]


async def test_yaml_keeps_what_the_customer_types_as_text(shop: Path) -> None:
    transcript = load_transcript_text(
        "tests:\n  - name: t\n    steps:\n      - 1\n      - yes\n      - text: 007\n      - text: null\n",
        "t.yaml",
    )
    assert [s.text for s in transcript.cases[0].steps] == ["1", "yes", "007", "null"]


async def test_coverage_counts_states_routes_and_faqs(shop: Path, tmp_path: Path) -> None:
    flows = load_flows("flows")
    transcript = load_transcript_text(
        """\
tests:
  - name: hours
    steps: [hi, "1"]
  - name: faq
    steps: [do you set up tubeless]
  - name: did you mean is not an answer
    steps: ["2", "R-1234", MENU]
""",
        "t.yaml",
    )
    suite = await run_suite(flows, [transcript], workdir=tmp_path)
    (coverage,) = suite.coverage
    parts = {p.name: p for p in coverage.parts}
    assert {name: (p.reached, p.total) for name, p in parts.items()} == {
        "states": (4, 4),
        "routes": (4, 5),
        "FAQs": (1, 2),
    }
    assert [name for name, _ in parts["routes"].missing] == ["menu/otherwise"]
    assert [(name, str(pos)) for name, pos in parts["FAQs"].missing] == [("parking", "flows/shop.yaml:36:5")]
    assert coverage.overall == 50.0 and coverage.weakest.name == "FAQs"


async def test_an_exception_in_the_service_is_a_failed_step(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = load_flows("flows")
    transcript = load_transcript_text("tests:\n  - name: t\n    steps: [hi, again]\n", "t.yaml")

    async def broken(message: object, media_base: str = "") -> None:
        raise RuntimeError("disk on fire")

    async with Runner(flows, tmp_path / "broken.db") as runner:
        monkeypatch.setattr(runner.service, "handle", broken)
        result = await runner.run_case(transcript, transcript.cases[0])
    assert format_failure(result) == (
        "FAIL t.yaml: t\n"
        "  step 1 at t.yaml:3:13\n"
        '    sent:  "hi"\n'
        "    error: RuntimeError: disk on fire\n"
        "  (1 later step not run)"
    )


def test_a_default_flow_without_numbers_gets_a_number_no_flow_lists(shop: Path) -> None:
    (shop / "other.yaml").write_text(
        "flow: other\nnumbers: ['+15550000000']\nstart: a\nstates:\n  a:\n    say: Hi.\n", encoding="utf-8"
    )
    (shop / "shop.yaml").write_text("default: true\n" + SHOP, encoding="utf-8")
    flows = load_flows("flows")
    assert business_number(flows.flows["shop"], flows) == "+15550000001"
    assert business_number(flows.flows["other"], flows) == "+15550000000"


def test_touched_ignores_the_engines_own_restart() -> None:
    from bot.engine import Decision
    from bot.service import Handled

    touched = Touched()
    touched.record(Handled((), decision=Decision("start", route_id="restart"), entered=("menu",)))
    touched.record(Handled((), decision=Decision("picked", faq_id="parking")))
    touched.record(Handled((), kind="compliance"))
    assert (touched.states, touched.routes, touched.faqs) == ({"menu"}, set(), {"parking"})


def test_the_result_types_are_still_exported_by_the_runner_module() -> None:
    """They live in bot.transcripts.results; code importing them from bot.transcripts.run keeps working."""
    import bot.transcripts.results as results
    import bot.transcripts.run as run

    for name in ("CaseResult", "Mismatch", "StepFailure", "Touched"):
        assert name in run.__all__
        assert getattr(run, name) is getattr(results, name)


# -- bad transcript files ----------------------------------------------------------


def test_bad_transcripts_are_reported_with_positions(shop: Path) -> None:
    path = write(
        """\
flow: shop
from: 555-1234
tests:
  - name: one
    start: {state: men}
    steps:
      - text: "1"
        stat: hours
      - text: hi
        state: hour
        faq: tubless
      - wait: 30
        text: x
      - wait: 5m
        contains: x
      - text: hi
        no_reply: true
        reply: hi
      - text: hi
        regex: "(unclosed"
        media: [foo.unknownext]
        segments_at_most: 11
  - name: one
    steps: []
  - steps: [hi]
"""
    )
    _, findings = read_transcripts([Path(path)], load_flows("flows"))
    assert [str(f) for f in findings] == [
        "flows/tests/shop.yaml:2:7: error: 'from' should be a phone number in E.164 form like +15550100001, "
        "got '555-1234'",
        "flows/tests/shop.yaml:5:20: error: flow 'shop' has no state 'men' (did you mean 'menu'?)",
        "flows/tests/shop.yaml:8:9: error: unknown key 'stat' in a step (did you mean 'state'?); expected one of: "
        "text, media, wait, reply, contains, not_contains, regex, segments_at_most, no_reply, state, vars, faq",
        "flows/tests/shop.yaml:10:16: error: flow 'shop' has no state 'hour' (did you mean 'hours'?)",
        "flows/tests/shop.yaml:11:14: error: flow 'shop' has no FAQ with id 'tubless' (did you mean 'tubeless'?)",
        "flows/tests/shop.yaml:12:15: error: 'wait' should be a duration like 45s, 30m, 2h or 7d, got '30'",
        "flows/tests/shop.yaml:15:9: error: 'contains' needs a 'text' in the same step: only a text gets a reply",
        "flows/tests/shop.yaml:18:9: error: 'reply' checks a reply, but this step says 'no_reply: true'",
        "flows/tests/shop.yaml:20:16: error: 'regex' is not a valid regular expression: missing ), unterminated "
        "subpattern (at 0)",
        "flows/tests/shop.yaml:21:17: error: cannot tell what kind of attachment 'foo.unknownext' is; write photo, "
        "video, audio, a content type like image/jpeg, or a file name like damage.jpg (or true/false to check "
        "whether the reply has media)",
        "flows/tests/shop.yaml:22:27: error: 'segments_at_most' should be from 1 to 10, got 11",
        "flows/tests/shop.yaml:23:5: error: two tests are named 'one' (first at line 4); give each its own name, "
        "which is how a failure is reported",
        "flows/tests/shop.yaml:24:12: error: 'steps' is empty; expected at least one text",
        "flows/tests/shop.yaml:25:5: error: a test needs a 'name' (what it checks, in a few words)",
    ]


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("tests: [\n", "flows/tests/shop.yaml:2:1: error: YAML syntax error: while parsing a flow node, expected "
                       "the node content, but found '<stream end>'"),
        ("", "flows/tests/shop.yaml:1:1: error: the file is empty; expected 'tests:'"),
        ("flow: shop\n", "flows/tests/shop.yaml:1:1: error: the file has no 'tests:'; expected a list of tests, "
                         "each with a 'name' and 'steps'"),
        ("flow: shp\ntests: []\n", "flows/tests/shop.yaml:1:7: error: no flow named 'shp' (did you mean 'shop'?); "
                                   "flows: shop"),
        ("tests: []\n", "flows/tests/shop.yaml:1:1: error: the file has no tests; write at least one under "
                       "'tests:', each with a 'name' and 'steps' (flows/tests/README.md)"),
        ("tests:\n  - name: a\n    steps:\n      - text: ''\n",
         "flows/tests/shop.yaml:4:15: error: 'text' is empty and no 'media' is sent: the customer sends nothing"),
        ("tests:\n  - name: a\n    start: {vars: {a: b}}\n    steps: [hi]\n",
         "flows/tests/shop.yaml:3:12: error: 'start' needs a 'state' to begin the conversation in"),
        ("tests:\n  - name: a\n    steps:\n      - text: hi\n        no_reply: maybe\n",
         "flows/tests/shop.yaml:5:19: error: 'no_reply' should be true or false, got 'maybe'"),
    ],
)
def test_file_level_mistakes(shop: Path, text: str, finding: str) -> None:
    path = write(text)
    _, findings = read_transcripts([Path(path)], load_flows("flows"))
    assert [str(f) for f in findings] == [finding]


def test_a_file_that_is_not_utf8(shop: Path) -> None:
    path = Path("flows/tests/shop.yaml")
    path.write_bytes(b"tests:\n  - name: caf\xe9\n")
    _, findings = read_transcripts([path], load_flows("flows"))
    assert [str(f) for f in findings] == [
        "flows/tests/shop.yaml:2:14: error: file is not UTF-8 text (byte 20); save it as UTF-8"
    ]


# -- textdesk test -----------------------------------------------------------------

PASSING = """\
tests:
  - name: hours
    steps:
      - text: hi
        state: menu
      - text: "1"
        reply: We're open 9-5.
  - name: tubeless
    steps:
      - text: do you set up tubeless
        faq: tubeless
"""


def test_cli_reports_passes_and_coverage(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(PASSING)
    assert main(["test", "-v"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == """\
flows/tests/shop.yaml: 2 passed
  ok   hours
  ok   tubeless

coverage of flow 'shop' (flows/shop.yaml): 20% overall (the lowest of the three: routes)
  states    2 of 4      50%
  routes    1 of 5      20%
  FAQs      1 of 2      50%
  states never entered:
    repair_ask     flows/shop.yaml:24:3
    repair_status  flows/shop.yaml:29:3
  routes never taken:
    global/1             flows/shop.yaml:8:5
    menu/choice 2        flows/shop.yaml:16:9
    menu/otherwise       flows/shop.yaml:19:7
    repair_ask/choice 1  flows/shop.yaml:27:9
  FAQs never answered:
    parking  flows/shop.yaml:36:5

2 tests: 2 passed, 0 failed
"""


def test_hidden_and_editor_files_in_the_tests_folder_are_not_transcripts(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(PASSING)
    (shop / "tests" / "._shop.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \xff\xfe")
    write("tests: [\n", ".#shop.yaml")
    write("tests: [\n", "shop.yaml~")
    assert find_files(["flows/tests"]) == [Path("flows/tests/shop.yaml")]
    assert main(["test"]) == 0
    assert capsys.readouterr().out.endswith("2 tests: 2 passed, 0 failed\n")


def test_cli_min_coverage(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(PASSING)
    assert main(["test", "--min-coverage", "20"]) == 0
    capsys.readouterr()
    assert main(["test", "--min-coverage", "20.5%"]) == 1
    out, err = capsys.readouterr()
    assert out.endswith("2 tests: 2 passed, 0 failed\n")
    assert err == "textdesk test: coverage of flow 'shop' is 20% (routes), below --min-coverage 20.5%\n"
    with pytest.raises(SystemExit) as exited:
        main(["test", "--min-coverage", "120"])
    assert exited.value.code == 2
    assert "--min-coverage: should be a percentage from 0 to 100, got '120'" in capsys.readouterr().err


def test_cli_failure_exit_code_and_report(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(PASSING.replace("We're open 9-5.", "We're open 9-6."))
    assert main(["test", "flows/tests/shop.yaml"]) == 1
    out, _ = capsys.readouterr()
    assert "flows/tests/shop.yaml: 1 passed, 1 failed\n" in out
    assert """\
FAIL flows/tests/shop.yaml: hours
  step 2 at flows/tests/shop.yaml:6:9
    sent:    "1"
    reply:   expected "We're open 9-6."
             got      "We're open 9-5."
    decided: choice route=menu/choice 1 score=100.0 menu->hours
""" in out
    assert out.endswith("2 tests: 1 passed, 1 failed\n")


def test_cli_bad_transcript_exits_2_without_running(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(PASSING)
    write("tests:\n  - name: a\n    steps:\n      - txt: hi\n", "broken.yaml")
    assert main(["test"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "flows/tests/broken.yaml:4:9: error: unknown key 'txt' in a step (did you mean 'text'?); expected one of: "
        "text, media, wait, reply, contains, not_contains, regex, segments_at_most, no_reply, state, vars, faq\n"
        "textdesk test: 1 error in the transcripts; no test was run\n"
    )


def test_cli_bad_arguments(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "nowhere.yaml"]) == 2
    assert capsys.readouterr().err == "textdesk test: error: no such file or folder: nowhere.yaml\n"
    assert main(["test", "--flows", "nowhere"]) == 2
    assert capsys.readouterr().err == "textdesk test: error: flows folder not found: nowhere\n"
    assert main(["test"]) == 2  # flows/tests is empty
    assert capsys.readouterr().err == (
        "textdesk test: error: no transcript files (*.yaml) in flows/tests; see flows/tests/README.md\n"
    )


def test_cli_flows_with_errors_exit_1(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(PASSING)
    (shop / "shop.yaml").write_text(SHOP.replace("go: hours", "go: hour"), encoding="utf-8")
    assert main(["test"]) == 1
    err = capsys.readouterr().err
    assert "flows/shop.yaml:15:13: error: state 'hour' does not exist (did you mean 'hours'?)" in err
    assert err.endswith("textdesk test: the flows have errors; fix them first (see 'textdesk lint')\n")


def test_cli_with_paths_reports_only_the_flows_tested(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (shop / "other.yaml").write_text(
        "flow: other\nnumbers: ['+15550001111']\nstart: a\nstates:\n  a:\n    say: Hi.\n", encoding="utf-8"
    )
    (shop / "shop.yaml").write_text("default: true\n" + SHOP, encoding="utf-8")
    write(PASSING)
    assert main(["test", "flows/tests"]) == 0
    out = capsys.readouterr().out
    assert "flow 'shop'" in out and "flow 'other'" not in out
    assert main(["test"]) == 0
    out = capsys.readouterr().out
    assert "coverage of flow 'other' (flows/other.yaml): 0% overall (the lowest of the three: states)" in out
