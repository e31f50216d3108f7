"""The flow loader: real flow files in a temporary folder, every finding checked to the column.

Each test writes a flow as a content editor would (``flows/support.yaml`` beside a
``flows/media/`` folder holding real PNG files), loads it, and compares the exact
``file:line:col: error: message`` lines. The tests run from the temporary folder so
that file names read as they do in a deploy log: ``flows/support.yaml:42:7: ...``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import textwrap
import zlib
from pathlib import Path

import pytest
import yaml

from bot.engine import FlowEngine
from bot.flows import Flow, FlowLoadError, Settings, load_flow, load_flow_text
from bot.matching.normalize import normalize, squeeze
from bot.types import ConversationKey

ROOT = Path(__file__).resolve().parent.parent
RETAIL = ROOT / "flows" / "retail.yaml"
FLOW = "flows/support.yaml"  # as the tests write it, relative to the temporary folder


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real, decodable RGB PNG (not just a file with a .png name)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``flows/`` with ``media/size-chart.png``, ``media/storefront.png``, ``media/products/jacket.png``."""
    monkeypatch.chdir(tmp_path)
    media = tmp_path / "flows" / "media"
    (media / "products").mkdir(parents=True)
    for name in ("size-chart.png", "storefront.png", "products/jacket.png"):
        (media / name).write_bytes(png_bytes())
    return tmp_path / "flows"


@pytest.fixture
def media_root(flows_dir: Path) -> Path:
    """The media folder as the loader names it in messages (absolute, resolved)."""
    return (flows_dir / "media").resolve()


def write(text: str, name: str = "support.yaml") -> str:
    """Write a flow (dedented) into ``flows/`` and return its path as the loader will name it."""
    path = Path("flows") / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def errors(text: str, name: str = "support.yaml") -> list[str]:
    """Write and load a flow that must be rejected; its findings, one line each."""
    path = write(text, name)
    with pytest.raises(FlowLoadError) as info:
        load_flow(path)
    lines = [str(f) for f in info.value.findings]
    assert str(info.value) == "\n".join(lines)
    return lines


def loads(text: str, name: str = "support.yaml") -> Flow:
    return load_flow(write(text, name))


# A small valid flow with every level of nesting; its line numbers are used below.
BASE = """\
flow: support
default: true
start: menu
settings:
  brand: Spoke & Chain
states:
  menu:
    say: Hi! Reply 1 for hours.
    choices:
      - keywords: ["1"]
        option: Opening hours
        go: menu
    otherwise:
      say: Please reply 1.
global:
  - keywords: [MENU]
    go: menu
faqs:
  - id: hours
    question: When are you open?
    also: [opening hours]
    answer: 9-5 every day.
"""


def base_with(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


# --- the bundled example ------------------------------------------------------------


def test_bundled_retail_flow_loads_completely() -> None:
    flow = load_flow(RETAIL)

    assert flow.name == "retail"
    assert flow.default is True
    assert flow.numbers == ("+15555550100",)
    assert flow.start == "menu"
    assert list(flow.states) == [
        "menu",
        "hours",
        "returns",
        "order_ask",
        "order_found",
        "demo",
        "demo_jacket",
        "demo_pack",
        "demo_clip",
        "agent",
        "photo_received",
    ]
    assert flow.settings.brand == "Acme Outfitters"
    assert flow.settings.match_threshold == 80
    assert flow.settings.ambiguity_margin == 5
    assert flow.settings.idle_timeout == 1800.0
    assert flow.settings.welcome_back == "Welcome back to Acme Outfitters!"
    assert flow.version == hashlib.sha256(RETAIL.read_bytes()).hexdigest()[:12]
    assert flow.path == str(RETAIL)
    assert flow.media_dir == str(RETAIL.parent / "media")

    # Every route leads somewhere that exists.
    routes = [*flow.global_routes]
    for state in flow.states.values():
        routes += [*state.choices, *([state.otherwise] if state.otherwise else [])]
    assert len(routes) == 28
    assert {r.go for r in routes if r.go is not None} <= set(flow.states)
    assert [sorted(r.keys)[:4] for r in flow.global_routes] == [
        ["0", "back", "forget about it", "forget it"],
        ["agent", "agente", "ayuda", "can i speak to a human"],
        ["adios", "al done", "al god", "al set"],
        ["alright", "awesome", "col", "got it"],
    ]
    assert {"menu", "main", "start over", "main menu"} <= flow.global_routes[0].keys
    assert {"human", "person", "representative", "talk to someone"} <= flow.global_routes[1].keys
    assert [r.route_id for r in flow.states["menu"].choices] == [f"menu/choice {i}" for i in range(1, 6)]

    pattern = flow.states["order_ask"].choices[0].pattern
    assert pattern is not None
    assert list(pattern.groupindex) == ["order_number"]
    found = pattern.search("my order is ac 123456 thanks")
    assert found is not None and found.group("order_number") == "123456"

    assert len(flow.faqs) == 31
    assert len({faq.faq_id for faq in flow.faqs}) == 31
    for faq in flow.faqs:
        assert faq.phrasings[0] == faq.question
        assert len(faq.phrasings) - 1 >= 4, faq.faq_id  # the question plus at least 4 other ways
        assert faq.answer and faq.answer == faq.answer.strip()
    assert min(len(faq.phrasings) - 1 for faq in flow.faqs) == 4

    # Media names are resolved against flows/media and the files are really there.
    media = {name: state.media for name, state in flow.states.items() if state.media}
    assert media == {
        "demo_jacket": ("traillite-jacket.png",),
        "demo_pack": ("summit-pack.png",),
        "demo_clip": ("summit-pack-demo.mp4",),
    }
    faq_media = {faq.faq_id: faq.media for faq in flow.faqs if faq.media}
    assert faq_media == {"size-guide": ("size-chart.png",)}
    for name in ("traillite-jacket.png", "summit-pack.png", "size-chart.png"):
        assert (Path(flow.media_dir) / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (Path(flow.media_dir) / "summit-pack-demo.mp4").read_bytes()[4:8] == b"ftyp"


def test_small_valid_flow_loads_with_positions() -> None:
    flow = loads(BASE)
    assert flow.name == "support"
    assert flow.pos.line == 1 and flow.pos.col == 1
    menu = flow.states["menu"]
    assert (menu.pos.file, menu.pos.line, menu.pos.col) == (FLOW, 7, 3)
    assert menu.say == "Hi! Reply 1 for hours."
    (choice,) = menu.choices
    assert (choice.pos.line, choice.pos.col) == (10, 9)
    assert choice.keywords == ("1",)
    assert choice.keys == frozenset({"1"})
    assert choice.option == "Opening hours"
    assert choice.option_norm == "opening hours"
    assert choice.go == "menu"
    assert menu.otherwise is not None
    assert menu.otherwise.route_id == "menu/otherwise"
    assert menu.otherwise.go is None and menu.otherwise.say == "Please reply 1."
    assert [r.route_id for r in flow.global_routes] == ["global/1"]
    (faq,) = flow.faqs
    assert (faq.faq_id, faq.pos.line, faq.pos.col) == ("hours", 19, 5)
    assert faq.phrasings == ("When are you open?", "opening hours")
    assert flow.faq("hours") is faq and flow.faq("nope") is None
    assert flow.settings == Settings(brand="Spoke & Chain")


def test_flow_name_defaults_to_file_name_and_version_is_the_bytes_digest() -> None:
    text = "start: menu\nstates:\n  menu:\n    say: Hi\n    final: true\n"
    flow = loads(text, name="bike-shop.yaml")
    assert flow.name == "bike-shop"
    assert flow.version == hashlib.sha256(text.encode()).hexdigest()[:12]
    assert flow.default is False
    assert flow.numbers == ()
    assert flow.settings == Settings()


def test_load_flow_text_validates_like_a_file(media_root: Path) -> None:
    flow = load_flow_text(BASE, "inline.yaml", str(media_root))
    assert flow.name == "support"
    assert flow.version == hashlib.sha256(BASE.encode()).hexdigest()[:12]
    with pytest.raises(FlowLoadError) as info:
        load_flow_text(base_with("go: menu\n    otherwise", "go: mneu\n    otherwise"), "inline.yaml", str(media_root))
    assert [str(f) for f in info.value.findings] == [
        "inline.yaml:12:13: error: state 'mneu' does not exist (did you mean 'menu'?)"
    ]


def test_missing_file_is_reported() -> None:
    with pytest.raises(FlowLoadError) as info:
        load_flow("flows/nope.yaml")
    (finding,) = info.value.findings
    assert str(finding.pos) == "flows/nope.yaml:1:1"
    assert finding.message.startswith("cannot read file: [Errno 2] No such file or directory")


# --- YAML itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Tabs: PyYAML's words alone ("cannot start any token") did not say what to do.
        pytest.param(
            "flow: support\nstart:\tmenu\n",
            "2:7: error: YAML syntax error: while scanning for the next token, "
            "found character '\\t' that cannot start any token (a tab: YAML takes spaces, not tabs; use spaces)",
            id="tab",
        ),
        pytest.param(
            "flow: support\nstart: menu\nstates:\n\tmenu:\n\t\tsay: Hi\n",
            "4:1: error: YAML syntax error: while scanning for the next token, "
            "found character '\\t' that cannot start any token (a tab: YAML takes spaces, not tabs; use spaces)",
            id="tab-indented",
        ),
        pytest.param(
            "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n  \t final: true\n",
            "6:3: error: YAML syntax error: while scanning for the next token, "
            "found character '\\t' that cannot start any token (a tab: YAML takes spaces, not tabs; use spaces)",
            id="tab-among-spaces",
        ),
        pytest.param(
            'flow: support\nnumbers: ["+15555550123"\nstart: menu\n',
            "3:1: error: YAML syntax error: while parsing a flow sequence started at line 2, column 10, "
            "expected ',' or ']', but got '<scalar>'",
            id="unclosed-bracket",
        ),
        pytest.param(
            'flow: support\nstates:\n  menu:\n    say: "Hi there\n    final: true\n',
            "6:1: error: YAML syntax error: while scanning a quoted scalar started at line 4, column 10, "
            "found unexpected end of stream",
            id="unclosed-quote",
        ),
        pytest.param(
            "flow: support\nstates:\n  menu:\n    say: Hi\n   final: true\n",
            "5:4: error: YAML syntax error: while parsing a block mapping started at line 3, column 3, "
            "expected <block end>, but found '<block mapping start>'",
            id="bad-indent",
        ),
        pytest.param(
            "flow: support\nsay: Hi: there\n",
            "2:8: error: YAML syntax error: mapping values are not allowed here",
            id="colon-in-plain-text",
        ),
        pytest.param(
            "flow: support\n---\nflow: other\n",
            "2:1: error: YAML syntax error: expected a single document in the stream started at line 1, "
            "column 1, but found another document",
            id="two-documents",
        ),
        pytest.param(
            "flow: support\nstart: *menu\n",
            "2:8: error: YAML syntax error: found undefined alias 'menu'",
            id="undefined-alias",
        ),
    ],
)
def test_yaml_syntax_error_reports_position_of_the_problem(text: str, expected: str) -> None:
    assert errors(text) == [f"{FLOW}:{expected}"]


def test_control_character_is_reported_at_its_line_and_column() -> None:
    # A vertical tab is what a word processor's "line break" pastes as.
    text = "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\x0bthere\n"
    assert errors(text) == [
        f"{FLOW}:5:12: error: unacceptable character #x000b (special characters are not allowed); delete or retype it"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "   \n", "# just a comment\n# and another\n"])
def test_empty_file(text: str) -> None:
    assert errors(text) == [f"{FLOW}:1:1: error: the file is empty; expected a flow"]


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("- menu\n- hours\n", "a list"),
        ("hello\n", "'hello'"),
        ("'true'\n", "'true'"),
        ("~\n", "nothing"),
    ],
)
def test_top_level_must_be_a_mapping(text: str, got: str) -> None:
    assert errors(text) == [f"{FLOW}:1:1: error: the flow file should be a mapping of 'key: value' lines, got {got}"]


def test_not_utf8_is_reported_at_the_bad_byte() -> None:
    data = "flow: support\nstart: menu\nstates:\n  menu:\n    say: Café open\n".encode("latin-1")
    Path(FLOW).write_bytes(data)
    with pytest.raises(FlowLoadError) as info:
        load_flow(FLOW)
    assert data.index(b"\xe9") == 54
    assert [str(f) for f in info.value.findings] == [
        f"{FLOW}:5:13: error: file is not UTF-8 text (byte 54); save it as UTF-8"
    ]


def test_utf16_file_is_not_utf8() -> None:
    Path(FLOW).write_bytes("flow: support\n".encode("utf-16"))
    with pytest.raises(FlowLoadError) as info:
        load_flow(FLOW)
    assert [str(f) for f in info.value.findings] == [
        f"{FLOW}:1:1: error: file is not UTF-8 text (byte 0); save it as UTF-8"
    ]


def test_utf8_with_byte_order_mark_and_non_ascii_text_loads() -> None:
    # Windows editors save UTF-8 with a BOM; accents and emoji are ordinary text.
    text = "flow: café\nstart: menu\nstates:\n  menu:\n    say: Crème brûlée 🍮\n    final: true\n"
    Path(FLOW).write_bytes(b"\xef\xbb\xbf" + text.replace("café", "cafe").encode("utf-8"))
    flow = load_flow(FLOW)
    assert flow.name == "cafe"
    assert flow.states["menu"].say == "Crème brûlée 🍮"


# --- unknown keys, with suggestions ---------------------------------------------------------


def test_base_flow_is_valid() -> None:
    flow = loads(BASE)
    assert list(flow.states) == ["menu"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "default: true",
            "defualt: true",
            "2:1: error: unknown key 'defualt' in the flow file (did you mean 'default'?); "
            "expected one of: flow, default, numbers, start, settings, global, states, faqs, compliance, variables",
            id="top",
        ),
        pytest.param(
            "brand: Spoke",
            "brnad: Spoke",
            "5:3: error: unknown key 'brnad' in 'settings' (did you mean 'brand'?); expected one of: brand, "
            "match_threshold, ambiguity_margin, idle_timeout, welcome_back, fallback, help, did_you_mean, "
            "opt_out_reply, opt_in_reply, max_segments, segment_budget, smart_encoding, lost_state, lost_notice",
            id="settings",
        ),
        pytest.param(
            "say: Hi!",
            "sya: Hi!",
            "8:5: error: unknown key 'sya' in state 'menu' (did you mean 'say'?); "
            "expected one of: say, media, choices, otherwise, final",
            id="state",
        ),
        pytest.param(
            "option: Opening",
            "optoin: Opening",
            "11:9: error: unknown key 'optoin' in a choice (did you mean 'option'?); "
            "expected one of: keywords, option, pattern, sent, go, say, media, subscribe",
            id="choice",
        ),
        pytest.param(
            "say: Please",
            "sya: Please",
            "14:7: error: unknown key 'sya' in 'otherwise' (did you mean 'say'?); expected one of: say, media, go",
            id="otherwise",
        ),
        pytest.param(
            "  - keywords: [MENU]",
            "  - keywrds: [MENU]",
            "16:5: error: unknown key 'keywrds' in a global route (did you mean 'keywords'?); "
            "expected one of: keywords, option, pattern, sent, go, say, media, subscribe",
            id="global",
        ),
        pytest.param(
            "also: [opening",
            "alsoo: [opening",
            "21:5: error: unknown key 'alsoo' in an FAQ (did you mean 'also'?); "
            "expected one of: id, question, also, answer, media",
            id="faq",
        ),
        pytest.param(
            "start: menu",
            "start: menu\ncolour: blue",
            "4:1: error: unknown key 'colour' in the flow file; "
            "expected one of: flow, default, numbers, start, settings, global, states, faqs, compliance, variables",
            id="no-close-match",
        ),
    ],
)
def test_unknown_key_at_every_level(old: str, new: str, expected: str) -> None:
    # Exactly one finding: the misspelt key. A route whose only 'say' is misspelt is
    # not also reported as "does nothing", nor a global without 'keywords' as needing them.
    assert errors(base_with(old, new)) == [f"{FLOW}:{expected}"]


# --- states and references ----------------------------------------------------------------

SUPPORT = """\
# Support line for Spoke & Chain Bikes.
flow: support
default: true
numbers: ["+15555550123"]
start: menu

settings:
  brand: Spoke & Chain Bikes
  match_threshold: 80
  idle_timeout: 30m

states:
  menu:
    say: |
      Hi from Spoke & Chain! Reply:
      1 Opening hours
      2 Returns
    choices:
      - keywords: ["1", HOURS]
        option: Opening hours
        go: hours
      - keywords: ["2", RETURNS]
        option: Returns
        go: returns
    otherwise:
      say: "Please reply 1 or 2."

  hours:
    say: "We're open Tue-Sat, 9am-6pm."
    media: [storefront.png]
    final: true

  returns:
    say: "Bring it back within 30 days with the receipt."
    final: true

global:
- keywords: [MENU, MAIN]
  go: menu
- keywords: [RETURN, REFUND]
  say: "Returns are free."
  go: retuns
"""


def test_go_to_missing_state_names_file_line_column_and_suggests() -> None:
    assert SUPPORT.splitlines()[41] == "  go: retuns"
    assert errors(SUPPORT) == [f"{FLOW}:42:7: error: state 'retuns' does not exist (did you mean 'returns'?)"]


def test_support_flow_without_the_typo_loads() -> None:
    flow = loads(SUPPORT.replace("go: retuns", "go: returns"))
    assert flow.states["menu"].say == "Hi from Spoke & Chain! Reply:\n1 Opening hours\n2 Returns"
    assert flow.states["hours"].media == ("storefront.png",)
    assert flow.global_routes[1].say == "Returns are free."
    assert flow.global_routes[1].go == "returns"


def test_every_missing_go_is_reported_where_it_is_written() -> None:
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        choices:
          - keywords: ["1"]
            go: hours
          - keywords: ["2"]
            go: menu
        otherwise: {go: agnet}
    global:
      - keywords: [HUMAN]
        go: zzz
    """
    assert errors(text) == [
        f"{FLOW}:8:13: error: state 'hours' does not exist",
        f"{FLOW}:11:21: error: state 'agnet' does not exist",
        f"{FLOW}:14:9: error: state 'zzz' does not exist",
    ]


def test_missing_start() -> None:
    text = """\
    # no start here
    flow: support
    states:
      menu:
        say: Hi
        final: true
    """
    assert errors(text) == [f"{FLOW}:2:1: error: the flow has no 'start'; expected the name of the first state"]


def test_start_naming_a_missing_state() -> None:
    text = """\
    flow: support
    start: mneu
    states:
      menu:
        say: Hi
        final: true
    """
    assert errors(text) == [f"{FLOW}:2:8: error: start state 'mneu' does not exist (did you mean 'menu'?)"]


def test_missing_states() -> None:
    assert errors("flow: support\nstart: menu\n") == [
        f"{FLOW}:1:1: error: the flow has no 'states'; expected at least the start state",
        f"{FLOW}:2:8: error: start state 'menu' does not exist",
    ]


def test_state_and_flow_names_are_checked() -> None:
    text = """\
    flow: bike shop
    start: main menu
    states:
      main menu:
        say: Hi
        final: true
    """
    assert errors(text) == [
        f"{FLOW}:1:7: error: flow name 'bike shop' should use only letters, digits, '_' and '-'",
        # Not also "start state 'main menu' does not exist": it does, under a name to fix.
        f"{FLOW}:4:3: error: state name 'main menu' should use only letters, digits, '_' and '-'",
    ]


def test_names_are_at_most_100_characters_and_have_no_line_break() -> None:
    # The API refuses longer names: an audience joined by texting could never
    # be listed or broadcast to. A block scalar ends in a line break, which
    # "$" used to let through.
    long = "a" * 101
    text = (
        "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    choices:\n"
        f"      - keywords: [join]\n        subscribe: {long}\n"
        f"  {long}:\n    say: Bye\n"
    )
    assert errors(text) == [
        f"{FLOW}:8:20: error: audience name of 101 characters is too long: at most 100",
        f"{FLOW}:9:3: error: state name of 101 characters is too long: at most 100",
    ]
    text = "flow: |\n  support\nstart: menu\nstates:\n  menu:\n    say: Hi\n"
    assert errors(text) == [f"{FLOW}:1:7: error: flow name 'support\\n' should use only letters, digits, '_' and '-'"]


def test_wrong_shapes_are_reported() -> None:
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: [Hi]
        choices: {go: menu}
        final: true
    faqs:
      question: Hours?
    """
    assert errors(text) == [
        f"{FLOW}:5:10: error: 'say' of state 'menu' should be text, got a list",
        f"{FLOW}:6:14: error: 'choices' of state 'menu' should be a list (lines starting with '- '), got a mapping",
        f"{FLOW}:9:3: error: 'faqs' should be a list (lines starting with '- '), got a mapping",
    ]


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_top_level_key() -> None:
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        final: true
    start: hours
    """
    assert errors(text) == [f"{FLOW}:7:1: error: duplicate key 'start' in the flow file (first at line 2)"]


def test_duplicate_state_name() -> None:
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        final: true
      hours:
        say: 9-5
        final: true
      menu:
        say: Hello again
        final: true
    """
    assert errors(text) == [f"{FLOW}:10:3: error: duplicate key 'menu' in 'states' (first at line 4)"]


def test_duplicate_key_inside_a_state() -> None:
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        final: true
        say: Hello
    """
    assert errors(text) == [f"{FLOW}:7:5: error: duplicate key 'say' in state 'menu' (first at line 5)"]


def test_duplicate_faq_ids() -> None:
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        final: true
    faqs:
      - id: hours
        question: When are you open?
        answer: 9-5
      - id: parking
        question: Where do I park?
        answer: Behind the shop.
      - question: Are you open on Sunday?
        id: hours
        answer: No.
    """
    assert errors(text) == [f"{FLOW}:15:9: error: FAQ id 'hours' is used twice (first at line 8)"]


def test_faq_without_id_cannot_take_an_id_already_used() -> None:
    # Automatic ids are faq-<position>; "Did you mean" answers are looked up by id.
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        final: true
    faqs:
      - id: faq-2
        question: When are you open?
        answer: 9-5
      - question: Where do I park?
        answer: Behind the shop.
    """
    assert errors(text) == [
        f"{FLOW}:11:5: error: this FAQ has no 'id' and its automatic id 'faq-2' is already used at line 8; "
        "give it an 'id'"
    ]
    flow = loads(text.replace("faq-2", "opening"))
    assert [faq.faq_id for faq in flow.faqs] == ["opening", "faq-2"]


def test_faq_needs_question_and_answer() -> None:
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        final: true
    faqs:
      - id: hours
        also: [open when]
      - id: parking
        question: ""
        answer: Behind the shop.
    """
    assert errors(text) == [
        f"{FLOW}:8:5: error: an FAQ needs a 'question'",
        f"{FLOW}:8:5: error: an FAQ needs an 'answer'",
        f"{FLOW}:11:15: error: 'question' is empty; expected text",
    ]


def test_a_misspelt_faq_key_is_reported_once_not_also_as_missing() -> None:
    # 'questionx' was reported as unknown (did you mean 'question'?) and again
    # as "an FAQ needs a 'question'": two findings for one typo, the second
    # sending the editor to add a key that is already there. A key that is
    # missing with no look-alike is still reported, as routes do.
    text = """\
    flow: support
    start: menu
    states:
      menu:
        say: Hi
        final: true
    faqs:
      - id: hours
        questionx: When are you open?
      - id: parking
        question: Where can I park?
        anser: Behind the shop.
      - id: returns
        qestion: Can I return things?
        colour: red
    """
    assert errors(text) == [
        f"{FLOW}:8:5: error: an FAQ needs an 'answer'",
        f"{FLOW}:9:5: error: unknown key 'questionx' in an FAQ (did you mean 'question'?); "
        "expected one of: id, question, also, answer, media",
        f"{FLOW}:12:5: error: unknown key 'anser' in an FAQ (did you mean 'answer'?); "
        "expected one of: id, question, also, answer, media",
        f"{FLOW}:13:5: error: an FAQ needs an 'answer'",
        f"{FLOW}:14:5: error: unknown key 'qestion' in an FAQ (did you mean 'question'?); "
        "expected one of: id, question, also, answer, media",
        f"{FLOW}:15:5: error: unknown key 'colour' in an FAQ; expected one of: id, question, also, answer, media",
    ]


# --- YAML 1.1 booleans and numbers stay text ------------------------------------------------

KEYWORDS = """\
flow: support
start: menu
states:
  menu:
    say: no
    choices:
      - keywords: [y, no, on, off, true, 1, 2]
        option: on
        go: done
  done:
    say: yes
    final: true
"""


def test_unquoted_yaml_booleans_and_numbers_stay_text() -> None:
    flow = loads(KEYWORDS)
    (choice,) = flow.states["menu"].choices
    # (YES is an opt-in keyword, reserved for compliance, so 'y' and 'true' stand in.)
    assert choice.keywords == ("y", "no", "on", "off", "true", "1", "2")
    # Exact-match keys are squeezed forms (repeated letters collapse: "off" -> "of";
    # the shorthand table expands "y" to "why").
    assert choice.keys == frozenset({"why", "no", "on", "of", "true", "1", "2"})
    assert choice.option == "on"
    assert flow.states["menu"].say == "no"
    assert flow.states["done"].say == "yes"


@pytest.mark.parametrize("text", ["true", "TRUE", "No!", "on", "ON", "off", "Off.", "1", "2", " 2 "])
def test_keywords_match_exactly_those_words(text: str) -> None:
    engine = FlowEngine(loads(KEYWORDS))
    outcome = engine.handle(ConversationKey("test", "+15550001111", "+15555550123"), None, text, 0.0)
    assert (outcome.decision.kind, outcome.decision.route_id) == ("choice", "menu/choice 1")
    assert outcome.session.state == "done"


@pytest.mark.parametrize("text", ["false", "False", "0", "3", "12", "01", "n", "yes no", "yes"])
def test_keywords_do_not_match_what_yaml_would_have_made_of_them(text: str) -> None:
    (choice,) = loads(KEYWORDS).states["menu"].choices
    assert squeeze(normalize(text)) not in choice.keys


@pytest.mark.parametrize("value", ["yes", "no", "on", "off", "Yes", "1", "0", "y"])
def test_final_accepts_only_true_or_false(value: str) -> None:
    text = f"flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    final: {value}\n"
    assert errors(text) == [f"{FLOW}:6:12: error: 'final' should be true or false, got '{value}'"]


@pytest.mark.parametrize(("value", "final"), [("true", True), ("false", False), ("True", True), ("'true'", True)])
def test_final_true_or_false(value: str, final: bool) -> None:
    flow = loads(f"flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    final: {value}\n")
    assert flow.states["menu"].final is final


def test_default_accepts_only_true_or_false() -> None:
    text = "flow: support\ndefault: on\nstart: menu\nstates:\n  menu:\n    say: Hi\n"
    assert errors(text) == [f"{FLOW}:2:10: error: 'default' should be true or false, got 'on'"]


def test_keyword_without_letters_or_digits() -> None:
    text = base_with('keywords: ["1"]', 'keywords: ["1", "?!", "🙂"]')
    assert errors(text) == [
        f"{FLOW}:10:25: error: keyword '?!' has no letters or digits textdesk can match: it reads Latin letters "
        "(accented or not) and digits only, so no text can ever match it",
        f"{FLOW}:10:31: error: keyword '🙂' has no letters or digits textdesk can match: it reads Latin letters "
        "(accented or not) and digits only, so no text can ever match it",
    ]


# --- patterns and routes ---------------------------------------------------------------------------


def test_pattern_named_groups_become_variables_case_insensitively() -> None:
    text = base_with('keywords: ["1"]', r"pattern: '\bR-?(?P<ticket>\d{4})\b'")
    (choice,) = loads(text).states["menu"].choices
    assert choice.pattern is not None
    assert choice.pattern.pattern == r"\bR-?(?P<ticket>\d{4})\b"
    assert choice.pattern.flags & re.IGNORECASE
    assert dict(choice.pattern.groupindex) == {"ticket": 1}
    found = choice.pattern.search("my ticket is r-1234 thanks")
    assert found is not None and found.groupdict() == {"ticket": "1234"}
    assert choice.pattern.search("R-12") is None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"\bR-(?P<ticket\d{4})", "missing >, unterminated name (at 8)"),
        ("(unclosed", "missing ), unterminated subpattern (at 0)"),
        ("a(?i)b", "global flags not at the start of the expression (at 1)"),
        ("*ticket", "nothing to repeat (at 0)"),
    ],
)
def test_invalid_pattern_is_the_only_finding(pattern: str, message: str) -> None:
    # Not also "a choice needs 'keywords', 'option' or 'pattern'": it has one, a broken one.
    text = base_with('keywords: ["1"]\n        option: Opening hours', f"pattern: '{pattern}'")
    assert errors(text) == [f"{FLOW}:10:18: error: pattern is not a valid regular expression: {message}"]


def test_choice_with_nothing_to_match() -> None:
    text = base_with('      - keywords: ["1"]\n        option: Opening hours\n', "      - say: Hello\n")
    assert errors(text) == [f"{FLOW}:10:9: error: a choice needs 'keywords', 'option', 'pattern' or 'sent' to match"]


def test_choice_that_does_nothing() -> None:
    text = base_with("        go: menu\n    otherwise", "    otherwise")
    assert errors(text) == [f"{FLOW}:10:9: error: a choice does nothing; expected 'go', 'say' or 'media'"]


@pytest.mark.parametrize(
    ("otherwise", "expected"),
    [
        ("{}", "13:16: error: 'otherwise' does nothing; expected 'go', 'say' or 'media'"),
        ("", "13:15: error: 'otherwise' should be a mapping of 'key: value' lines, got nothing"),
        (
            "Please reply 1.",
            "13:16: error: 'otherwise' should be a mapping of 'key: value' lines, got 'Please reply 1.'",
        ),
        (
            "{keywords: [X], go: menu}",
            "13:17: error: unknown key 'keywords' in 'otherwise'; expected one of: say, media, go",
        ),
    ],
)
def test_otherwise_that_does_nothing(otherwise: str, expected: str) -> None:
    text = base_with(
        "    otherwise:\n      say: Please reply 1.\n", f"    otherwise: {otherwise}\n".replace(" \n", "\n")
    )
    assert errors(text) == [f"{FLOW}:{expected}"]


def test_otherwise_with_media_only_is_something() -> None:
    text = base_with("      say: Please reply 1.\n", "      media: [size-chart.png]\n")
    otherwise = loads(text).states["menu"].otherwise
    assert otherwise is not None
    assert (otherwise.say, otherwise.media, otherwise.go) == ("", ("size-chart.png",), None)


def test_global_routes_are_keywords_only() -> None:
    text = base_with(
        "  - keywords: [MENU]\n    go: menu\n",
        "  - keywords: [MENU]\n    go: menu\n  - go: menu\n  - option: main menu\n    go: menu\n",
    )
    assert errors(text) == [
        f"{FLOW}:18:5: error: a global route needs 'keywords' (e.g. MENU)",
        f"{FLOW}:19:5: error: global routes match 'keywords' only, not 'pattern' or 'option'",
    ]


def test_empty_values_are_reported() -> None:
    text = base_with("        go: menu\n    otherwise", "        go:\n    otherwise")
    # Only the empty 'go': the choice did try to go somewhere.
    assert errors(text) == [f"{FLOW}:12:12: error: 'go' is empty; expected text"]


# --- media -------------------------------------------------------------------------------------------

MEDIA = """\
flow: support
start: menu
states:
  menu:
    say: Hi
    final: true
    media:
      - size-chart.png
      - products/jacket.png
      - https://cdn.example.com/store.jpg
"""


def test_media_files_and_https_urls_are_accepted() -> None:
    flow = loads(MEDIA)
    assert flow.states["menu"].media == ("size-chart.png", "products/jacket.png", "https://cdn.example.com/store.jpg")
    assert flow.media_dir == str(Path("flows") / "media")


def test_media_path_that_stays_inside_is_normalised() -> None:
    flow = loads(MEDIA.replace("- size-chart.png", "- ../media/products/../size-chart.png"))
    assert flow.states["menu"].media[0] == "size-chart.png"


def test_media_in_choices_otherwise_and_faqs() -> None:
    text = base_with("go: menu\n    otherwise", "go: menu\n        media: products/jacket.png\n    otherwise")
    text = text.replace("answer: 9-5 every day.", "answer: 9-5 every day.\n    media: [storefront.png]")
    flow = loads(text)
    assert flow.states["menu"].choices[0].media == ("products/jacket.png",)
    assert flow.faqs[0].media == ("storefront.png",)


def test_media_dir_can_be_given(tmp_path: Path, media_root: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "banner.png").write_bytes(png_bytes())
    text = MEDIA.replace("      - size-chart.png\n      - products/jacket.png\n", "      - banner.png\n")
    flow = load_flow(write(text), media_dir=other)
    assert flow.media_dir == str(other)
    assert flow.states["menu"].media == ("banner.png", "https://cdn.example.com/store.jpg")
    # Without media_dir, names are looked up in flows/media, which has no banner.png.
    assert errors(text) == [f"{FLOW}:8:9: error: media file 'banner.png' not found in {media_root}"]


def test_missing_media_file_suggests_the_closest(media_root: Path) -> None:
    text = MEDIA.replace("- size-chart.png", "- size-chrt.png").replace("products/jacket.png", "products/jackit.png")
    assert errors(text) == [
        f"{FLOW}:8:9: error: media file 'size-chrt.png' not found in {media_root} (did you mean 'size-chart.png'?)",
        f"{FLOW}:9:9: error: media file 'products/jackit.png' not found in {media_root} "
        "(did you mean 'products/jacket.png'?)",
    ]


def test_media_outside_the_media_folder_is_rejected(flows_dir: Path, media_root: Path, tmp_path: Path) -> None:
    # The files really exist: only their place is wrong.
    (flows_dir / "secret.png").write_bytes(png_bytes())
    outside = tmp_path / "outside.png"
    outside.write_bytes(png_bytes())
    (flows_dir / "media" / "link.png").symlink_to(outside)
    text = MEDIA.replace(
        "      - size-chart.png\n      - products/jacket.png\n",
        f"      - ../secret.png\n      - {outside}\n      - link.png\n      - products/../../secret.png\n",
    )
    assert errors(text) == [
        f"{FLOW}:8:9: error: media '../secret.png' must be a file inside the media folder {media_root}",
        f"{FLOW}:9:9: error: media '{outside}' must be a file inside the media folder {media_root}",
        f"{FLOW}:10:9: error: media 'link.png' must be a file inside the media folder {media_root}",
        f"{FLOW}:11:9: error: media 'products/../../secret.png' must be a file inside the media folder {media_root}",
    ]


def test_absolute_path_inside_the_media_folder_is_still_rejected(media_root: Path) -> None:
    absolute = media_root / "size-chart.png"
    assert absolute.is_file()
    text = MEDIA.replace("- size-chart.png", f"- {absolute}")
    assert errors(text) == [
        f"{FLOW}:8:9: error: media '{absolute}' must be a file inside the media folder {media_root}"
    ]


def test_http_url_is_rejected() -> None:
    text = MEDIA.replace("https://cdn", "http://cdn")
    assert errors(text) == [f"{FLOW}:10:9: error: media URL 'http://cdn.example.com/store.jpg' must use https://"]


def test_a_folder_is_not_a_media_file(media_root: Path) -> None:
    text = MEDIA.replace("- products/jacket.png", "- products")
    assert errors(text) == [f"{FLOW}:9:9: error: media file 'products' not found in {media_root}"]


def test_a_media_choice_with_a_missing_file_is_not_also_said_to_do_nothing(media_root: Path) -> None:
    text = base_with("        go: menu\n    otherwise", "        media: [jacket.png]\n    otherwise")
    assert errors(text) == [
        f"{FLOW}:12:17: error: media file 'jacket.png' not found in {media_root} (did you mean 'products/jacket.png'?)"
    ]


# --- numbers and settings ------------------------------------------------------------------------


NUMBERS = "flow: support\nnumbers:\n  - {}\nstart: menu\nstates:\n  menu:\n    say: Hi\n    final: true\n"


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ('"+15555550123"', "+15555550123"),
        ("+15555550123", "+15555550123"),  # unquoted: still the text, never the integer
        ('"+1 555-555-0123"', "+15555550123"),
        ("'+447700900123'", "+447700900123"),
    ],
)
def test_numbers_in_e164(written: str, number: str) -> None:
    assert loads(NUMBERS.format(written)).numbers == (number,)


@pytest.mark.parametrize(
    "written",
    [
        "5555550123",
        "15555550123",
        "+05555550123",
        "+1555",
        "+1234567890123456",
        "+1 (555) 555-0123",
        "tel:+15555550123",
    ],
)
def test_numbers_not_in_e164(written: str) -> None:
    assert errors(NUMBERS.format(written)) == [
        f"{FLOW}:3:5: error: '{written}' is not a phone number in E.164 form like +15555550100"
    ]


def test_a_number_listed_twice_in_one_flow() -> None:
    text = NUMBERS.format('"+15555550123"\n  - "+1 555-555-0123"')
    assert errors(text) == [f"{FLOW}:4:5: error: number +15555550123 is listed twice (first at line 3)"]


SETTING = "flow: support\nstart: menu\nsettings:\n  {}: {}\nstates:\n  menu:\n    say: Hi\n    final: true\n"


@pytest.mark.parametrize("key", ["match_threshold", "ambiguity_margin"])
@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("100", 100), ("72", 72)])
def test_scores_in_range(key: str, value: str, expected: int) -> None:
    assert getattr(loads(SETTING.format(key, value)).settings, key) == expected


@pytest.mark.parametrize("key", ["match_threshold", "ambiguity_margin"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("101", "should be from 0 to 100, got 101"),
        ("-1", "should be from 0 to 100, got -1"),
        ("80.5", "should be a whole number from 0 to 100, got '80.5'"),
        ("high", "should be a whole number from 0 to 100, got 'high'"),
        ("80%", "should be a whole number from 0 to 100, got '80%'"),
    ],
)
def test_scores_out_of_range(key: str, value: str, message: str) -> None:
    col = 3 + len(key) + 2
    assert errors(SETTING.format(key, value)) == [f"{FLOW}:4:{col}: error: '{key}' {message}"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("45s", 45.0), ("30m", 1800.0), ("2h", 7200.0), ("7d", 604800.0), ("1.5h", 5400.0), ("90S", 90.0)],
)
def test_idle_timeout_with_unit(value: str, seconds: float) -> None:
    assert loads(SETTING.format("idle_timeout", value)).settings.idle_timeout == seconds


@pytest.mark.parametrize("value", ["30", "1800", "30 minutes", "30min", "0m", "-5m", "m", "infm", "nanh", "2w"])
def test_idle_timeout_without_a_valid_unit(value: str) -> None:
    assert errors(SETTING.format("idle_timeout", value)) == [
        f"{FLOW}:4:17: error: 'idle_timeout' should be a duration like 45s, 30m, 2h or 7d, got '{value}'"
    ]


def test_settings_texts() -> None:
    text = SETTING.format("fallback", "yes").replace(
        "settings:\n", "settings:\n  help: Reply STOP to opt out\n  welcome_back: no\n  did_you_mean: 'Did u mean:'\n"
    )
    settings = loads(text).settings
    assert settings == Settings(
        help="Reply STOP to opt out", fallback="yes", welcome_back="no", did_you_mean="Did u mean:"
    )


# --- all findings at once ------------------------------------------------------------------------

BROKEN = """\
flow: support
start: mneu
settings:
  match_threshold: 180
  idle_timeout: 30
states:
  menu:
    say: Hi
    choices:
      - keywords: ["1"]
        go: hours
      - pattern: '(unclosed'
        go: nowhere
  hours:
    say: Open 9-5
    media: [storefront.jpg]
    final: yes
faqs:
  - id: hours
    question: When are you open?
    answr: 9-5
"""


def test_broken_flow_reports_every_finding_sorted_by_position(media_root: Path) -> None:
    # Found in another order (references are checked last), reported in file order.
    path = write(BROKEN)
    with pytest.raises(FlowLoadError) as info:
        load_flow(path)
    expected = [
        f"{FLOW}:2:8: error: start state 'mneu' does not exist (did you mean 'menu'?)",
        f"{FLOW}:4:20: error: 'match_threshold' should be from 0 to 100, got 180",
        f"{FLOW}:5:17: error: 'idle_timeout' should be a duration like 45s, 30m, 2h or 7d, got '30'",
        f"{FLOW}:12:18: error: pattern is not a valid regular expression: missing ), unterminated subpattern (at 0)",
        f"{FLOW}:13:13: error: state 'nowhere' does not exist",
        f"{FLOW}:16:13: error: media file 'storefront.jpg' not found in {media_root} (did you mean 'storefront.png'?)",
        f"{FLOW}:17:12: error: 'final' should be true or false, got 'yes'",
        f"{FLOW}:21:5: error: unknown key 'answr' in an FAQ (did you mean 'answer'?); "
        "expected one of: id, question, also, answer, media",
    ]
    assert [str(f) for f in info.value.findings] == expected
    assert str(info.value) == "\n".join(expected)
    assert all(f.severity == "error" for f in info.value.findings)
    assert [f.pos.line for f in info.value.findings] == [2, 4, 5, 12, 13, 16, 17, 21]


def test_fixing_every_finding_makes_it_load() -> None:
    fixed = (
        BROKEN.replace("mneu", "menu")
        .replace("180", "80")
        .replace("idle_timeout: 30", "idle_timeout: 30m")
        .replace("(unclosed", "(closed)")
        .replace("nowhere", "menu")
        .replace("storefront.jpg", "storefront.png")
        .replace("final: yes", "final: true")
        .replace("answr", "answer")
    )
    flow = loads(fixed)
    assert flow.settings.match_threshold == 80
    assert flow.settings.idle_timeout == 1800.0
    assert flow.faqs[0].answer == "9-5"


# --- flow files never run code ---------------------------------------------------------------------


def payload(marker: Path) -> str:
    return f'!!python/object/apply:os.system ["touch {marker}"]'


def test_the_payload_is_real_when_yaml_constructs_objects(tmp_path: Path) -> None:
    # The control: an unsafe YAML load of the same text does run the command, so the
    # tests below would notice if the loader ever constructed tagged values.
    marker = tmp_path / "control"
    yaml.unsafe_load(f"say: {payload(marker)}\n")
    assert marker.exists()


VALID = "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    final: true\n"


def tagged(marker: Path) -> tuple[str, str]:
    """The payload as a tagged list (``os.system(*args)``) and as a tagged scalar."""
    return payload(marker), f'!!python/object/apply:os.system "touch {marker}"'


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("say", "5:10: error: 'say' of state 'menu' should be text, got a list"),
        ("top", "1:1: error: the flow file should be a mapping of 'key: value' lines, got a list"),
        ("key", "1:1: error: keys in the flow file must be plain words"),
        ("setting", "8:10: error: 'brand' should be text, got a list"),
        ("start", "2:8: error: start state 'touch {marker}' does not exist"),
        ("media", "9:45: error: media file 'touch {marker}' not found in {media_root}"),
    ],
)
def test_python_tags_never_execute_and_are_reported(
    where: str, expected: str, tmp_path: Path, media_root: Path
) -> None:
    marker = tmp_path / "pwned"
    as_list, as_scalar = tagged(marker)
    texts = {
        "say": VALID.replace("say: Hi", f"say: {as_list}"),
        "top": f"{as_list}\n",
        "key": f"{as_list}: x\n" + VALID,
        "setting": VALID + f"settings:\n  brand: {as_list}\n",
        "start": VALID.replace("start: menu", f"start: {as_scalar}"),
        "media": VALID + f"  other:\n    say: Hi\n    media: {as_list}\n    final: true\n",
    }
    assert errors(texts[where]) == [f"{FLOW}:" + expected.format(marker=marker, media_root=media_root)]
    assert not marker.exists()


def test_python_tags_in_keywords_are_plain_text(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    as_list, as_scalar = tagged(marker)
    text = VALID.replace(
        "final: true",
        f"choices:\n      - keywords: {as_list}\n        go: menu\n      - keywords: [{as_scalar}, MENU]\n"
        "        go: menu",
    )
    flow = loads(text)
    assert not marker.exists()
    first, second = flow.states["menu"].choices
    assert first.keywords == (f"touch {marker}",)
    assert second.keywords == (f"touch {marker}", "MENU")
    assert squeeze(normalize(f"touch {marker}")) in first.keys


def test_python_tags_in_texts_are_plain_text(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _, as_scalar = tagged(marker)
    text = VALID.replace("say: Hi", f"say: {as_scalar}") + f"faqs:\n  - question: Hours?\n    answer: {as_scalar}\n"
    flow = loads(text)
    assert not marker.exists()
    assert flow.states["menu"].say == f"touch {marker}"
    assert flow.faqs[0].answer == f"touch {marker}"


@pytest.mark.parametrize("word", ["STOP", "Unsubscribe", "opt out", "HELP", "info", "start", "unstop"])
def test_compliance_keywords_cannot_be_flow_keywords(word: str) -> None:
    text = (
        "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    choices:\n"
        f"      - keywords: ['{word}']\n        go: menu\n"
    )
    assert errors(text) == [
        f"{FLOW}:7:9: error: keyword '{word}' is reserved for opt-out, opt-in and HELP handling, which runs "
        "before any flow and can never be removed; choose another word"
    ]
