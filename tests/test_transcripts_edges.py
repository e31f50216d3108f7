"""Conversation tests at the edges of their format and size, run as an editor runs them.

Each test writes a real flow and real transcript files into a temporary
folder and goes through ``read_transcripts``/``run_suite`` or ``textdesk test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows import load_flows
from bot.transcripts import format_failure, read_transcripts, run_suite

# A real 1x1 PNG, for a flow that sends a picture.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cf"
    "c0000003010100c9fe92ef0000000049454e44ae426082"
)

SHOP = """\
flow: shop
start: menu
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


async def test_a_result_does_not_drag_its_whole_file_into_its_repr(shop: Path, tmp_path: Path) -> None:
    # asyncio.Runner (Python 3.11) builds the repr of the finished task, and so
    # of the suite's result, when it restores the SIGINT handler. Each case's
    # result held its whole transcript in its repr: quadratic in the number of
    # tests, 50 s of a 200-test file's run spent on a string nobody read.
    cases = "".join(f"  - name: case number {i}\n    steps: [hi]\n" for i in range(30))
    path = write(f"tests:\n{cases}", "many.yaml")
    flows = load_flows("flows")
    transcripts, findings = read_transcripts([path], flows)
    assert findings == []
    suite = await run_suite(flows, transcripts, workdir=tmp_path)
    first = repr(suite.results[0])
    assert "case number 0" in first
    assert "case number 29" not in first


def findings_of(text: str) -> list[str]:
    path = write(text, "t.yaml")
    _, findings = read_transcripts([path], load_flows("flows"))
    return [str(f) for f in findings]


STEP = "tests:\n  - name: x\n    steps:\n      - text: hi\n        {}\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("contains: []", "'contains' is an empty list, so it checks nothing; write the texts the reply must "
                         "contain, or leave 'contains' out"),
        ("not_contains: []", "'not_contains' is an empty list, so it checks nothing; write the texts the reply "
                             "must not contain, or leave 'not_contains' out"),
        ("regex: []", "'regex' is an empty list, so it checks nothing; write the regular expressions the reply "
                      "must match, or leave 'regex' out"),
        ("vars: {}", "'vars' is empty, so it checks nothing; write the variables to check, like "
                     "{order_number: \"123456\"}, or leave 'vars' out"),
        ("media: []", "'media' is an empty list, so the customer sends no attachment; write what they send "
                      "(photo, video, audio, ...), true/false to check the reply, or leave 'media' out"),
    ],
)  # fmt: skip
def test_an_empty_list_of_checks_is_a_mistake_not_a_pass(shop: Path, line: str, message: str) -> None:
    # 'contains: []' (a list emptied while editing) once passed whatever the
    # reply: a check that cannot fail reads as a test that covers something.
    assert findings_of(STEP.format(line)) == [f"flows/tests/t.yaml:5:{9 + len(line.split(':')[0]) + 2}: error: "
                                              f"{message}"]


def test_a_misspelt_key_is_reported_once_not_also_as_missing(shop: Path) -> None:
    # 'nmae' was reported as unknown (did you mean 'name'?) and again as "a
    # test needs a 'name'", sending the editor to add a key that is there.
    text = """\
test:
  - name: x
    steps: [hi]
"""
    assert findings_of(text) == [
        "flows/tests/t.yaml:1:1: error: unknown key 'test' in the transcript file (did you mean 'tests'?); "
        "expected one of: flow, from, tests",
    ]
    text = """\
tests:
  - nmae: x
    stpes: [hi]
  - name: y
    start: {stat: menu}
    steps: [hi]
  - name: z
    colour: red
"""
    assert findings_of(text) == [
        "flows/tests/t.yaml:2:5: error: unknown key 'nmae' in a test (did you mean 'name'?); "
        "expected one of: name, start, steps",
        "flows/tests/t.yaml:3:5: error: unknown key 'stpes' in a test (did you mean 'steps'?); "
        "expected one of: name, start, steps",
        "flows/tests/t.yaml:5:13: error: unknown key 'stat' in 'start' (did you mean 'state'?); "
        "expected one of: state, vars",
        "flows/tests/t.yaml:7:5: error: a test needs 'steps': a list of texts the customer sends",
        "flows/tests/t.yaml:8:5: error: unknown key 'colour' in a test; expected one of: name, start, steps",
    ]


CURLY = SHOP.replace("say: Hi! Reply 1 for hours.", "say: \"We’re open — 9–5… “really”. Reply 1.\"")


async def run_texts(text: str, tmp_path: Path) -> list[str]:
    """The failure reports of a transcript against the shop flow with curly quotes."""
    Path("flows/shop.yaml").write_text(CURLY, encoding="utf-8")
    path = write(text, "t.yaml")
    flows = load_flows("flows")
    transcripts, findings = read_transcripts([path], flows)
    assert findings == []
    suite = await run_suite(flows, transcripts, workdir=tmp_path)
    return [format_failure(r) for r in suite.failed]


async def test_contains_reads_curly_quotes_and_dashes_as_the_customer_gets_them(shop: Path, tmp_path: Path) -> None:
    # The reply is smart-encoded (’ to ', — to -, … to ...): a 'contains'
    # copied from the flow file failed against the very text it was copied
    # from, and a 'not_contains' copied so passed whatever was sent.
    text = """\
tests:
  - name: copied from the flow
    steps:
      - text: hi
        contains: ["We’re open — 9–5…", "“really”"]
  - name: must not say it
    steps:
      - text: hi
        not_contains: "We’re open"
"""
    assert await run_texts(text, tmp_path) == [
        """\
FAIL flows/tests/t.yaml: must not say it
  step 1 at flows/tests/t.yaml:8:9
    sent:         "hi"
    not_contains: expected a reply without "We’re open"
                  got      "We're open - 9-5... \\"really\\". Reply 1."
    decided:      start route=restart fresh=new -->menu"""
    ]


async def test_a_short_reply_that_differs_only_by_smart_encoding_says_so(shop: Path, tmp_path: Path) -> None:
    # Curly and straight quotes look alike: a short reply's difference is not
    # "plain to see" when it is one of those.
    text = """\
tests:
  - name: exact
    steps:
      - text: hi
        reply: "We’re open — 9–5… “really”. Reply 1."
"""
    assert await run_texts(text, tmp_path) == [
        """\
FAIL flows/tests/t.yaml: exact
  step 1 at flows/tests/t.yaml:4:9
    sent:    "hi"
    reply:   expected "We’re open — 9–5… “really”. Reply 1."
             got      "We're open - 9-5... \\"really\\". Reply 1."
             (replies are sent with smart encoding: curly quotes and dashes become plain ones)
    decided: start route=restart fresh=new -->menu"""
    ]


TICKETS = SHOP.replace(
    """      - keywords: ["1"]
        go: hours
""",
    """      - keywords: ["1"]
        go: hours
      - pattern: 'R-(?P<ticket>\\d{4})'
        go: hours
""",
)


def test_a_variable_no_pattern_sets_is_a_mistake_in_the_test(shop: Path) -> None:
    # 'vars: {tiket: ~}' ("must not be set") passed whatever happened: no
    # pattern ever sets 'tiket', so the check could not fail.
    Path("flows/shop.yaml").write_text(TICKETS, encoding="utf-8")
    text = """\
tests:
  - name: misspelt
    steps:
      - text: R-1234
        vars: {tiket: ~, ticket: "1234"}
  - name: set by start
    start: {state: menu, vars: {coupon: SAVE10}}
    steps:
      - text: hi
        vars: {coupon: SAVE10}
"""
    assert findings_of(text) == [
        "flows/tests/t.yaml:5:15: error: flow 'shop' never sets a variable 'tiket' (did you mean 'ticket'?): no "
        "pattern has a group (?P<tiket>...) and no 'start' of this test sets it",
    ]


PICTURE = SHOP.replace("    say: We're open 9-5.\n", "    say: We're open 9-5.\n    media: [shop.png]\n")


async def test_media_sent_as_links_says_why_the_reply_has_no_attachment(shop: Path, tmp_path: Path) -> None:
    # A customer outside +1 gets media as links in the text: 'media: true'
    # failed with "got no media" and nothing said why.
    Path("flows/media/shop.png").write_bytes(PNG)
    Path("flows/shop.yaml").write_text(PICTURE, encoding="utf-8")
    path = write('from: "+447700900123"\ntests:\n  - name: uk\n    steps:\n      - text: "1"\n        media: true\n',
                 "t.yaml")
    flows = load_flows("flows")
    transcripts, findings = read_transcripts([path], flows)
    assert findings == []
    suite = await run_suite(flows, transcripts, workdir=tmp_path)
    assert [format_failure(r) for r in suite.failed] == [
        """\
FAIL flows/tests/t.yaml: uk
  step 1 at flows/tests/t.yaml:5:9
    sent:    "1"
    media:   expected media
             got      no media
             (the media went as links in the text: +447700900123 gets no MMS, only +1 numbers do; check a link \
with 'contains')
    decided: choice route=menu/choice 1 score=100.0 fresh=new -->hours"""
    ]


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("text_contains: Reply", "contains"),  # spelling alone said 'not_contains': the opposite check
        ("expect: Reply", "reply"),  # spelling alone said 'text'
        ("delay: 5m", "wait"),  # spelling alone said 'reply'
        ("say: Hi", "reply"),
        ("excludes: Sorry", "not_contains"),
        ("Text: hi", "text"),
        ("no-reply: true", "no_reply"),
    ],
)
def test_an_unknown_step_key_suggests_the_key_meant_not_just_a_similar_spelling(
    shop: Path, line: str, meant: str
) -> None:
    key = line.split(":")[0]
    expected = ", ".join(("text", "media", "wait", "reply", "contains", "not_contains", "regex", "segments_at_most",
                          "no_reply", "state", "vars", "faq"))
    assert findings_of(STEP.format(line)) == [
        f"flows/tests/t.yaml:5:9: error: unknown key '{key}' in a step (did you mean '{meant}'?); "
        f"expected one of: {expected}"
    ]


def test_words_from_other_tools_are_read_at_every_level(shop: Path) -> None:
    text = """\
customer: "+447700900123"
tests:
  - title: hi
    begin: {name: menu}
    steps: [hi]
"""
    assert findings_of(text) == [
        "flows/tests/t.yaml:1:1: error: unknown key 'customer' in the transcript file (did you mean 'from'?); "
        "expected one of: flow, from, tests",
        "flows/tests/t.yaml:3:5: error: unknown key 'title' in a test (did you mean 'name'?); "
        "expected one of: name, start, steps",
        "flows/tests/t.yaml:4:5: error: unknown key 'begin' in a test (did you mean 'start'?); "
        "expected one of: name, start, steps",
    ]


def test_a_name_with_no_look_alike_lists_what_there_is(shop: Path) -> None:
    # Without a close match the message said only what was wrong; it now says
    # what the flow has, so the editor can pick.
    text = """\
tests:
  - name: x
    start: {state: lobby}
    steps:
      - text: hi
        state: checkout
        faq: shipping
  - name: x
    steps: [hi]
"""
    assert findings_of(text) == [
        "flows/tests/t.yaml:3:20: error: flow 'shop' has no state 'lobby'; its states: menu, hours",
        "flows/tests/t.yaml:6:16: error: flow 'shop' has no state 'checkout'; its states: menu, hours",
        "flows/tests/t.yaml:7:14: error: flow 'shop' has no FAQ with id 'shipping': it has no FAQs",
        "flows/tests/t.yaml:8:5: error: two tests are named 'x' (first at line 2); give each its own name, "
        "which is how a failure is reported",
    ]
    assert findings_of("tests: []\n") == [
        "flows/tests/t.yaml:1:1: error: the file has no tests; write at least one under 'tests:', each with a "
        "'name' and 'steps' (flows/tests/README.md)"
    ]


def test_a_step_written_as_text_colon_reply_says_how_to_write_it(shop: Path) -> None:
    # '- hi: Hi! Reply 1' reads as a step with one unknown key 'hi'.
    assert findings_of("tests:\n  - name: x\n    steps:\n      - hi: Hi! Reply 1\n") == [
        "flows/tests/t.yaml:4:9: error: unknown key 'hi' in a step; expected one of: text, media, wait, reply, "
        "contains, not_contains, regex, segments_at_most, no_reply, state, vars, faq (to send 'hi' and check "
        "the reply, write 'text: hi' and, under it, 'contains: ...')"
    ]


@pytest.mark.parametrize("regex", ["sorry|", "x*", ".*", "^(?!.*sorry)"])
def test_a_regex_that_matches_an_empty_reply_is_a_mistake(shop: Path, regex: str) -> None:
    # 'sorry|' (a stray bar) matches the empty text at the start of any reply:
    # the check passed whatever was sent, even nothing at all.
    assert findings_of(STEP.format(f"regex: '{regex}'")) == [
        "flows/tests/t.yaml:5:16: error: 'regex' matches an empty text, so it passes whatever is sent, even no "
        "reply; write a pattern that needs at least one character (to check a text is absent, use 'not_contains')"
    ]
