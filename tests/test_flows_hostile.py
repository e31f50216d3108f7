"""Hostile and accidental flow files: every one is a clean ``file:line:col`` finding, never a crash.

Found by mutating real flows (deep nesting, escapes, absurd numbers, odd regexes,
media names the file system refuses). Each test writes a real flow file under a
temporary ``flows/`` folder with a real ``media/`` beside it and loads it with the
real loader; a traceback instead of a finding would stop a deploy with no line to
fix, and in ``serve`` a hot reload would log a crash instead of the editor's mistake.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.flows import FlowLoadError, load_flow

FLOW = "flows/support.yaml"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")  # only the name matters here


@pytest.fixture(autouse=True)
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    media = tmp_path / "flows" / "media"
    media.mkdir(parents=True)
    (media / "size-chart.png").write_bytes(PNG)
    return tmp_path / "flows"


def write(text: str) -> str:
    path = Path(FLOW)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def errors(text: str) -> list[str]:
    """Load a flow that must be rejected; its findings, one line each."""
    with pytest.raises(FlowLoadError) as info:
        load_flow(write(text))
    return [str(f) for f in info.value.findings]


# --- nesting ----------------------------------------------------------------------------


def test_absurdly_deep_nesting_is_a_finding_not_a_recursion_error() -> None:
    # An unclosed-bracket paste gone wrong, or an attack on the parser: PyYAML
    # composes nested nodes recursively and used to die with a RecursionError.
    text = "flow: support\nstart: menu\nstates:\n  menu:\n    say: " + "[" * 3000 + "]" * 3000 + "\n"
    assert errors(text) == [
        f"{FLOW}:5:39: error: the value here is nested more than 32 levels deep, the most a file may "
        "nest (a flow needs 7); look for brackets '[' or '{' that are never closed"
    ]


def test_deep_mappings_too() -> None:
    text = "flow: support\nstart: menu\nstates:\n  menu:\n    say: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"
    assert errors(text) == [
        f"{FLOW}:5:123: error: the value here is nested more than 32 levels deep, the most a file may "
        "nest (a flow needs 7); look for brackets '[' or '{' that are never closed"
    ]


def test_the_deepest_real_flow_is_far_from_the_limit() -> None:
    # top -> states -> a state -> choices -> a choice -> keywords -> a keyword: 7 levels.
    flow = load_flow(
        write(
            """\
            start: menu
            states:
              menu:
                say: Hi
                choices:
                  - keywords: ["1"]
                    go: menu
            """
        )
    )
    assert flow.states["menu"].choices[0].keywords == ("1",)


# --- characters that escapes let in ------------------------------------------------------


@pytest.mark.parametrize(
    ("say", "col", "code", "hint"),
    [
        # JSON's way to write an emoji: YAML keeps the two halves as two broken characters,
        # and every reply holding them failed to encode (UnicodeEncodeError) at send time.
        (r'"Hi \ud83d\ude00"', 10, "d83d", "half of an emoji"),
        (r'"Hi\0there"', 10, "0000", "a control character"),
        (r'"tab\vbed"', 10, "000b", "a control character"),
        (r'"\uffff"', 10, "ffff", "not a character"),
    ],
)
def test_escapes_that_make_unsendable_characters_are_reported(say: str, col: int, code: str, hint: str) -> None:
    text = f"flow: support\nstart: menu\nstates:\n  menu:\n    say: {say}\n    final: true\n"
    found = errors(text)
    assert len(found) == 1
    assert found[0].startswith(f"{FLOW}:5:{col}: error: this text holds character #x{code} ({hint}")
    found[0].encode("utf-8")  # the message never quotes the broken character: it must print anywhere


def test_a_broken_character_in_a_key_is_reported_and_the_finding_prints() -> None:
    text = 'flow: support\nstart: menu\nstates:\n  "menu\\ud83d":\n    say: Hi\n    final: true\n'
    found = errors(text)
    assert found == [
        f"{FLOW}:4:3: error: this text holds character #xd83d (half of an emoji written as two escapes); "
        "write the emoji itself, or as one escape like \\U0001F600"
    ]


def test_an_escaped_emoji_written_whole_loads() -> None:
    text = 'flow: support\nstart: menu\nstates:\n  menu:\n    say: "Hi \\U0001F600 and \\t tab"\n    final: true\n'
    assert load_flow(write(text)).states["menu"].say == "Hi \U0001f600 and \t tab"


def test_a_nul_escape_in_a_media_name_is_reported() -> None:
    text = 'flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n'
    text += '    media: ["size-chart.png\\0x"]\n    final: true\n'
    found = errors(text)
    assert len(found) == 1
    assert found[0].startswith(f"{FLOW}:6:13: error: this text holds character #x0000")


# --- media names the file system refuses ------------------------------------------------------


def test_a_media_name_too_long_for_the_file_system_is_a_finding(flows_dir: Path) -> None:
    # A number where a file name belongs (a YAML integer of 400 digits) made
    # is_file() raise "File name too long" instead of returning False.
    name = "9" * 400
    text = f"flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    media: [{name}]\n    final: true\n"
    root = (flows_dir / "media").resolve()
    assert errors(text) == [f"{FLOW}:6:13: error: media file '{name}' not found in {root} (File name too long)"]


def test_a_symlink_loop_in_the_media_folder_is_a_finding(flows_dir: Path) -> None:
    # Path.resolve() raises RuntimeError("Symlink loop") rather than OSError.
    media = flows_dir / "media"
    (media / "loop.png").symlink_to("loop.png")
    text = "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    media: [loop.png]\n    final: true\n"
    root = media.resolve()
    assert errors(text) == [f"{FLOW}:6:13: error: media file 'loop.png' not found in {root} (a symlink loop)"]


# --- regular expressions re.compile refuses with something else than re.error ------------------------


def pattern_flow(pattern: str) -> str:
    return (
        "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    choices:\n"
        f"      - pattern: '{pattern}'\n        go: menu\n"
    )


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a{99999999999}", "a repeat count like {n} is too large"),  # OverflowError
        ("(?a)(?u)x", "ASCII and UNICODE flags are incompatible"),  # ValueError
        ("(" * 1200 + ")" * 1200, "groups are nested too deeply"),  # RecursionError
        ("(?<=a+)b", "look-behind requires fixed-width pattern"),  # re.error without a position
    ],
    ids=["overflow", "flags", "recursion", "no-position"],
)
def test_every_way_a_pattern_fails_to_compile_is_a_finding(pattern: str, message: str) -> None:
    assert errors(pattern_flow(pattern)) == [
        f"{FLOW}:7:18: error: pattern is not a valid regular expression: {message}"
    ]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a{99999999999}", "a repeat count like {n} is too large"),
        ("(" * 1200 + ")" * 1200, "groups are nested too deeply"),
        ("(unclosed", "missing ), unterminated subpattern (at 0)"),
    ],
    ids=["overflow", "recursion", "re.error"],
)
def test_revocation_patterns_are_checked_where_they_are_written(pattern: str, message: str) -> None:
    text = (
        "flow: support\nstart: menu\ncompliance:\n  revocation_patterns:\n    - 'ne plus'\n"
        f"    - '{pattern}'\nstates:\n  menu:\n    say: Hi\n    final: true\n"
    )
    shown = pattern if len(pattern) <= 40 else pattern[:40] + "..."
    assert errors(text) == [
        f"{FLOW}:6:7: error: revocation pattern '{shown}' is not a valid regular expression: {message}"
    ]


# --- patterns that backtrack exponentially ------------------------------------------------------


NESTED = (
    "can take exponential time on some texts, freezing every conversation while it runs: a repeated "
    "group holds a repeat of its own ('+', '*' or '{m,n}' inside '(...)+'); write it with one repeat, "
    "or make the inner one atomic: (?>...) or a possessive '++'"
)


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+$",  # the textbook case: 30 a's and a '!' take minutes
        r"^(\w+\s?)*$",
        "(?:x*)*y",
        r"(?P<order>(\d{1,3})+)-",
        r"(?i)(?:(ab|cd)+)+z",
        r"(?=(a+)+b)",  # inside a lookahead it backtracks all the same
    ],
)
def test_nested_repeats_are_refused(pattern: str) -> None:
    assert errors(pattern_flow(pattern)) == [f"{FLOW}:7:18: error: pattern {NESTED}"]


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?i)\bAC[- ]?(?P<order_number>\d{6})\b",  # the bundled flow's
        r"\bR-?(?P<ticket>\d{4})\b",
        r"(?:\d{3})+",  # fixed-width inside: one way to split the text
        r"(-?\d)+",  # an optional part ({0,1}) is not a repeat that can trade characters
        r"(?>a+)+$",  # atomic: never backtracks into the inner repeat
        r"(a++)+$",  # possessive: likewise
        r"(?:cat|dog)+",
        r"(a+)?b",  # the outer group does not repeat
    ],
)
def test_patterns_without_nested_repeats_load(pattern: str) -> None:
    flow = load_flow(write(pattern_flow(pattern)))
    assert flow.states["menu"].choices[0].pattern is not None


def test_revocation_patterns_are_refused_too() -> None:
    # They run on every clause of every message, before any flow.
    text = (
        "flow: support\nstart: menu\ncompliance:\n  revocation_patterns: ['(stop +)+texting']\n"
        "states:\n  menu:\n    say: Hi\n    final: true\n"
    )
    assert errors(text) == [f"{FLOW}:4:25: error: revocation pattern '(stop +)+texting' {NESTED}"]


# --- numbers past what a float holds ------------------------------------------------------


@pytest.mark.parametrize("value", ["1e308d", "1e305h", "2e307m"])
def test_an_idle_timeout_that_overflows_to_infinity_is_refused(value: str) -> None:
    # The amount is finite, but times the unit it overflows to inf: conversations would never restart.
    text = f"flow: support\nstart: menu\nsettings:\n  idle_timeout: {value}\n"
    text += "states:\n  menu:\n    say: Hi\n    final: true\n"
    assert errors(text) == [
        f"{FLOW}:4:17: error: 'idle_timeout' should be a duration like 45s, 30m, 2h or 7d, got '{value}'"
    ]


# --- text that matching can never see ------------------------------------------------------


UNMATCHABLE = (
    "textdesk can match: it reads Latin letters (accented or not) and digits only, so no text can ever match it"
)


def test_a_keyword_in_another_alphabet_is_not_said_to_have_no_letters() -> None:
    text = (
        "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    choices:\n"
        "      - keywords: ['меню', '🙂', MENU]\n        go: menu\n"
    )
    assert errors(text) == [
        f"{FLOW}:7:20: error: keyword 'меню' has no letters or digits {UNMATCHABLE}",
        f"{FLOW}:7:28: error: keyword '🙂' has no letters or digits {UNMATCHABLE}",
    ]


def test_an_option_that_normalises_to_nothing_is_refused() -> None:
    # It loaded, and the choice silently never matched anything.
    text = (
        "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    choices:\n"
        "      - option: Часы работы\n        go: menu\n"
    )
    assert errors(text) == [f"{FLOW}:7:17: error: option 'Часы работы' has no letters or digits {UNMATCHABLE}"]


# --- one mistake, one finding ------------------------------------------------------------


def test_a_state_written_wrong_is_not_also_said_not_to_exist() -> None:
    # The state is right there in the file; "does not exist" sent editors looking for a typo.
    text = "flow: support\nstart: menu\nstates:\n  menu:\n  other:\n    say: Hi\n    otherwise:\n      go: menu\n"
    assert errors(text) == [f"{FLOW}:4:8: error: state 'menu' should be a mapping of 'key: value' lines, got nothing"]


def test_a_state_named_wrong_is_not_also_said_not_to_exist() -> None:
    text = "flow: support\nstart: menu\nstates:\n  menu:\n    say: Hi\n    otherwise:\n      go: the end\n  the end:\n"
    text += "    say: Bye\n    final: true\n"
    assert errors(text) == [f"{FLOW}:8:3: error: state name 'the end' should use only letters, digits, '_' and '-'"]
