"""``textdesk lint``: each kind of finding from a small flow an editor could write.

Every test writes real flow files into ``flows/`` in a temporary folder and runs
from there, so findings read as in a CI log (``flows/support.yaml:12:9: ...``) and
are compared whole: file, line, column, severity and message.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from bench.corpus import faq_set, roughen
from bot.cli import main
from bot.flows import load_flow
from bot.flows.lint import lint_flow, lint_flow_set, lint_paths
from bot.flows.model import Flow
from bot.matching.faq import FaqIndex
from bot.matching.normalize import match_form, normalize

ROOT = Path(__file__).resolve().parent.parent
RETAIL = ROOT / "flows" / "retail.yaml"
FLOW = "flows/support.yaml"


@pytest.fixture(autouse=True)
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows" / "media").mkdir(parents=True)
    (tmp_path / "flows" / "media" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return tmp_path / "flows"


def write(text: str, name: str = "support.yaml") -> str:
    path = Path("flows") / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def lint(*paths: str) -> list[str]:
    return [str(f) for f in lint_paths(list(paths))]


# A clean flow: every check passes. Tests below change one thing at a time.
CLEAN = """\
flow: support
start: menu
global:
  - keywords: [MENU]
    go: menu
states:
  menu:
    say: Hi! Reply 1 for hours or 2 for a repair.
    choices:
      - keywords: ["1", HOURS]
        go: hours
      - keywords: ["2"]
        option: Repair status
        go: repair
    otherwise:
      say: Please reply 1 or 2.
  hours:
    say: Open 9-5.
    final: true
  repair:
    say: Your ticket number?
    choices:
      - pattern: 'R-(?P<ticket>\\d{4})'
        go: ticket
    otherwise:
      say: It looks like R-1234.
  ticket:
    say: Ticket {ticket} is ready.
    final: true
faqs:
  - id: hours
    question: When are you open?
    answer: 9-5 every day.
  - id: tubeless
    question: Do you set up tubeless tyres?
    also: [tubeless conversion]
    answer: Yes, $25 a wheel.
"""


def clean_with(old: str, new: str) -> str:
    assert CLEAN.count(old) == 1, old
    return CLEAN.replace(old, new)


def test_clean_flow_has_no_findings() -> None:
    assert lint(write(CLEAN)) == []


def test_bundled_retail_flow_has_no_errors() -> None:
    findings = lint_paths([RETAIL.parent])
    assert [str(f) for f in findings if f.severity == "error"] == []
    # Its only warnings are FAQs competing for the same texts (for the flow's
    # editors to reword); no state, keyword or template problem.
    assert all(" competes with FAQ " in f.message for f in findings), findings


# --- the loader's findings, passed through ----------------------------------------------


def test_yaml_syntax_error_is_reported() -> None:
    path = write("flow: support\nstart:\tmenu\n")
    assert lint(path) == [
        f"{FLOW}:2:7: error: YAML syntax error: while scanning for the next token, "
        "found character '\\t' that cannot start any token (a tab: YAML takes spaces, not tabs; use spaces)"
    ]


def test_loader_errors_are_all_reported_with_suggestions(flows_dir: Path) -> None:
    text = clean_with("    say: Open 9-5.\n", "    sya: Open 9-5.\n    media: [logo.pgn]\n")
    text = text.replace("        go: ticket\n", "        go: tickte\n")
    text = text.replace("  ticket:\n", "  hours:\n    say: again\n  ticket:\n")
    media = (flows_dir / "media").resolve()
    assert lint(write(text)) == [
        f"{FLOW}:18:5: error: unknown key 'sya' in state 'hours' (did you mean 'say'?); "
        "expected one of: say, media, choices, otherwise, final",
        f"{FLOW}:19:13: error: media file 'logo.pgn' not found in {media} (did you mean 'logo.png'?)",
        f"{FLOW}:25:13: error: state 'tickte' does not exist (did you mean 'ticket'?)",
        f"{FLOW}:28:3: error: duplicate key 'hours' in 'states' (first at line 17)",
    ]


# --- every independent finding at once ---------------------------------------------------------
# An editor fixing a file must not meet new errors after each fix: a mistake in
# one place does not hide the checks of the others. Nor does it invent any: a
# check whose inputs the mistake broke is skipped, not run on a guess.


def test_a_structural_error_does_not_hide_the_whole_flow_checks() -> None:
    text = clean_with("    say: Open 9-5.\n    final: true\n", "    say: Open 9-5 {tiket}.\n")  # dead end, unset
    text = text.replace("  - keywords: [MENU]\n", "  - keywords: [MENU, STOP]\n")  # reserved word
    text = text.replace("    say: Your ticket number?\n", "    say: Your ticket number?\n    sya: oops\n")
    text = text.replace("    answer: 9-5 every day.\n", "    answer: " + "9-5 every day. " * 70 + "\n")
    assert lint(write(text)) == [
        f"{FLOW}:4:5: error: keyword 'STOP' is reserved for opt-out, opt-in and HELP handling, which runs before "
        "any flow and can never be removed; choose another word",
        f"{FLOW}:17:3: error: '{{tiket}}' in the 'say' of state 'hours' is never set (did you mean 'ticket'?): "
        "no pattern in this flow has a group (?P<tiket>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
        f"{FLOW}:17:3: error: state 'hours' has no way out; add choices or mark it 'final: true'",
        f"{FLOW}:21:5: error: unknown key 'sya' in state 'repair' (did you mean 'say'?); "
        "expected one of: say, media, choices, otherwise, final",
        f"{FLOW}:31:5: error: FAQ 'hours' costs 7 segments (GSM-7), over the flow's segment_budget of 6; "
        "shorten it or raise 'segment_budget'",
    ]


def test_a_broken_part_is_not_checked_on_a_guess() -> None:
    # Each mistake below would make a check downstream report something false:
    # a state whose choice is broken is no dead end, a variable whose pattern does
    # not compile is set once it does, and a budget that does not read is unknown.
    text = clean_with("      - keywords: [\"1\", HOURS]\n        go: hours\n",
                      "      - keywords: [\"1\", HOURS]\n        goo: hours\n")
    text = text.replace("'R-(?P<ticket>\\d{4})'", "'R-(?P<ticket>\\d{4}'")
    text = text.replace("start: menu\n", "start: menu\nsettings:\n  segment_budget: lots\n")
    text = text.replace("    answer: 9-5 every day.\n", "    answer: " + "9-5 every day. " * 70 + "\n")
    assert lint(write(text)) == [
        f"{FLOW}:4:19: error: 'segment_budget' should be a whole number from 1 to 10, got 'lots'",
        f"{FLOW}:13:9: error: unknown key 'goo' in a choice (did you mean 'go'?); "
        "expected one of: keywords, option, pattern, sent, go, say, media, subscribe",
        f"{FLOW}:25:18: error: pattern is not a valid regular expression: missing ), unterminated subpattern (at 2)",
    ]


def test_a_bad_revocation_pattern_does_not_hide_a_compliance_word_conflict() -> None:
    text = CLEAN + "compliance:\n  opt_in: [STOP]\n  revocation_patterns: ['(stop']\n"
    assert lint(write(text)) == [
        f"{FLOW}:39:3: error: compliance keywords: keyword 'STOP' cannot be both OPT_OUT and OPT_IN",
        f"{FLOW}:40:25: error: revocation pattern '(stop' is not a valid regular expression: "
        "missing ), unterminated subpattern (at 0)",
    ]


# --- states nobody reaches, states nobody leaves --------------------------------------------


def test_unreachable_states_are_warnings() -> None:
    # 'orphan' has no route in; 'island' is only reached from 'orphan'; 'desk' is
    # reached through a global keyword only, which counts (it works from anywhere).
    text = CLEAN.replace("    go: menu\nstates:", "    go: menu\n  - keywords: [DESK]\n    go: desk\nstates:")
    text = text.replace(
        "faqs:\n",
        "  orphan:\n    say: Nobody comes here.\n    choices:\n      - keywords: [GO]\n        go: island\n"
        "    otherwise:\n      say: Reply GO.\n"
        "  island:\n    say: Nor here.\n    final: true\n"
        "  desk:\n    say: A person will reply.\n    final: true\n"
        "faqs:\n",
    )
    assert lint(write(text)) == [
        f"{FLOW}:32:3: warning: state 'orphan' is never reached: "
        "no route from the start state or a global keyword goes there",
        f"{FLOW}:39:3: warning: state 'island' is never reached: "
        "no route from the start state or a global keyword goes there",
    ]


def test_state_with_nothing_to_answer_and_not_final_is_an_error() -> None:
    text = clean_with("    say: Open 9-5.\n    final: true\n", "    say: Open 9-5.\n")
    assert lint(write(text)) == [
        f"{FLOW}:17:3: error: state 'hours' has no way out; add choices or mark it 'final: true'"
    ]


@pytest.mark.parametrize(
    "way_out",
    [
        "    otherwise:\n      say: Reply MENU for the menu.\n",  # stays, but answers
        "    choices:\n      - keywords: [MORE]\n        say: We also open Sundays.\n",  # a loop by design
        "    final: true\n    choices:\n      - keywords: [MORE]\n        go: menu\n",
    ],
)
def test_otherwise_choices_or_final_are_each_a_way_out(way_out: str) -> None:
    text = clean_with("    say: Open 9-5.\n    final: true\n", "    say: Open 9-5.\n" + way_out)
    assert lint(write(text)) == []


# --- keywords that can never fire -----------------------------------------------------------


def test_keyword_taken_by_an_earlier_choice_is_an_error() -> None:
    text = clean_with('      - keywords: ["2"]\n', '      - keywords: ["2", "hours!"]\n')
    assert lint(write(text)) == [
        f"{FLOW}:12:9: error: keyword 'hours!' of choice 2 of state 'menu' never fires: "
        "choice 1 of state 'menu' (line 10) takes the same text with 'HOURS'"
    ]


def test_keyword_repeated_with_the_same_effect_is_a_warning() -> None:
    text = clean_with(
        '        go: hours\n      - keywords: ["2"]\n',
        '        go: hours\n      - keywords: [OPEN, Hours]\n        go: hours\n      - keywords: ["2"]\n',
    )
    assert lint(write(text)) == [
        f"{FLOW}:12:9: warning: keyword 'Hours' of choice 2 of state 'menu' never fires: "
        "choice 1 of state 'menu' (line 10) takes the same text with 'HOURS'; "
        "both do the same, so this one can be removed"
    ]


def test_keyword_taken_by_a_global_route_is_an_error() -> None:
    text = clean_with('      - keywords: ["2"]\n', '      - keywords: ["2", "Menu"]\n')
    assert lint(write(text)) == [
        f"{FLOW}:12:9: error: keyword 'Menu' of choice 2 of state 'menu' never fires: "
        "global route 1 (line 4) takes the same text with 'MENU'"
    ]


def test_keyword_in_two_global_routes_is_an_error() -> None:
    text = clean_with("    go: menu\nstates:", "    go: menu\n  - keywords: [HELLO, MENU]\n    say: Hi!\nstates:")
    assert lint(write(text)) == [
        f"{FLOW}:6:5: error: keyword 'MENU' of global route 2 never fires: global route 1 (line 4) takes it first"
    ]


# --- templates -------------------------------------------------------------------------------


def test_template_variable_no_pattern_sets_is_an_error() -> None:
    text = clean_with("    say: Ticket {ticket} is ready.\n", "    say: Ticket {tiket} for {name} is ready.\n")
    text = text.replace("    answer: 9-5 every day.\n", "    answer: '{brand} is open 9-5.'\n")
    assert lint(write(text)) == [
        f"{FLOW}:27:3: error: '{{name}}' in the 'say' of state 'ticket' is never set: "
        "no pattern in this flow has a group (?P<name>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
        f"{FLOW}:27:3: error: '{{tiket}}' in the 'say' of state 'ticket' is never set (did you mean 'ticket'?): "
        "no pattern in this flow has a group (?P<tiket>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
        f"{FLOW}:31:5: error: '{{brand}}' in the answer of FAQ 'hours' is never set: "
        "no pattern in this flow has a group (?P<brand>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
    ]


def test_a_variable_declared_under_variables_is_set_by_the_api() -> None:
    # An appointment reminder started through POST /api/conversations with
    # {"variables": {"first_name": ...}}: no pattern sets it, and the flow must
    # still load (the server refused to start on it).
    text = clean_with("    say: Ticket {ticket} is ready.\n", "    say: Ticket {ticket} for {first_name} is ready.\n")
    assert lint(write(text)) == [
        f"{FLOW}:27:3: error: '{{first_name}}' in the 'say' of state 'ticket' is never set: "
        "no pattern in this flow has a group (?P<first_name>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
    ]
    assert lint(write("variables:\n  first_name: 20\n" + text)) == []


def test_braces_that_are_no_variable_are_an_error() -> None:
    # Studio and Liquid write {{name}}, which here sends "{Ann}"; "{ name }" and
    # "{contact.name}" are sent as written. Braces around anything else may be literal.
    text = clean_with(
        "    say: Ticket {ticket} is ready.\n",
        "    say: 'Ticket {{ticket}} is ready, { ticket }. {{ flow.ticket }} {contact.ticket} {1,2} { } {ticket}'\n",
    )
    assert lint(write(text)) == [
        f"{FLOW}:27:3: error: '{{ ticket }}' in the 'say' of state 'ticket' is sent as written: "
        "a variable is '{ticket}' (single braces; letters, digits and _, no spaces or dots)",
        f"{FLOW}:27:3: error: '{{contact.ticket}}' in the 'say' of state 'ticket' is sent as written: "
        "a variable is '{ticket}' (single braces; letters, digits and _, no spaces or dots)",
        f"{FLOW}:27:3: error: '{{{{ flow.ticket }}}}' in the 'say' of state 'ticket' is sent as written: "
        "a variable is '{ticket}' (single braces; letters, digits and _, no spaces or dots)",
        f"{FLOW}:27:3: error: '{{{{ticket}}}}' in the 'say' of state 'ticket' would send the braces around "
        "the value ('{Ann}'): a variable takes single braces, '{ticket}'",
    ]


def test_template_variables_in_route_says_and_settings_are_checked() -> None:
    text = clean_with("      say: It looks like R-1234.\n", "      say: '{ticket} is not R-1234, {who}.'\n")
    text = "settings:\n  fallback: Sorry {first_name}!\n" + text
    assert lint(write(text)) == [
        f"{FLOW}:2:13: error: '{{first_name}}' in setting 'fallback' is never set: "
        "no pattern in this flow has a group (?P<first_name>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
        f"{FLOW}:28:7: error: '{{who}}' in the 'say' of 'otherwise' in state 'repair' is never set: "
        "no pattern in this flow has a group (?P<who>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
    ]


# --- FAQs that compete ----------------------------------------------------------------------


def test_faqs_that_would_answer_the_same_text_are_a_warning() -> None:
    text = CLEAN + (
        "  - id: tyres\n"
        "    question: Which tyres do you sell?\n"
        "    also: [can you set up tubeless tyres]\n"
        "    answer: Schwalbe and Maxxis.\n"
    )
    assert lint(write(text)) == [
        f"{FLOW}:38:5: warning: FAQ 'tyres' competes with FAQ 'tubeless' (line 34): "
        "'can you set up tubeless tyres' and 'Do you set up tubeless tyres?' score 100 (match_threshold 80); "
        "customers may get the other answer or a 'Did you mean'"
    ]


def test_faq_overlap_uses_the_flows_match_threshold() -> None:
    # 'tubeless price' against 'tubeless conversion': content words "tubeless
    # price" / "tubeless conversion" share one word of two.
    text = CLEAN + "  - id: prices\n    question: tubeless price\n    answer: $25.\n"
    loose = "settings:\n  match_threshold: 50\n" + text
    assert lint(write(text)) == []
    assert [f.severity for f in lint_paths([write(loose)])] == ["warning"]


# --- files, folders and the command ------------------------------------------------------------


def test_folder_lint_reports_rules_between_files_and_checks_each_loadable_file() -> None:
    write(clean_with("flow: support\n", "flow: support\ndefault: true\n"))
    write(
        clean_with("flow: support\n", "flow: other\ndefault: true\n").replace("    final: true\n", "", 1), "other.yaml"
    )
    assert lint("flows") == [
        "flows:1:1: error: exactly one flow must say 'default: true' (found: other, support)",
        "flows/other.yaml:18:3: error: state 'hours' has no way out; add choices or mark it 'final: true'",
    ]
    # The same file named twice (directly and through its folder) is reported once.
    assert lint("flows", "flows/other.yaml") == lint("flows")
    assert [str(f) for f in lint_flow_set("flows")] == lint("flows")


def test_findings_are_sorted_by_file_line_and_column() -> None:
    write(clean_with("    say: Open 9-5.\n    final: true\n", "    say: Open 9-5 {x}.\n"), "b.yaml")
    write("flow: a\nstart: x\n", "a.yaml")
    assert lint("flows") == [
        "flows:1:1: error: exactly one flow must say 'default: true' (found: none)",
        "flows/a.yaml:1:1: error: the flow has no 'states'; expected at least the start state",
        "flows/a.yaml:2:8: error: start state 'x' does not exist",
        "flows/b.yaml:17:3: error: '{x}' in the 'say' of state 'hours' is never set: "
        "no pattern in this flow has a group (?P<x>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)",
        "flows/b.yaml:17:3: error: state 'hours' has no way out; add choices or mark it 'final: true'",
    ]


def test_lint_flow_runs_on_a_loaded_flow() -> None:
    flow = load_flow(write(clean_with("    say: Open 9-5.\n    final: true\n", "    say: Open 9-5.\n")))
    assert [f.message for f in lint_flow(flow)] == [
        "state 'hours' has no way out; add choices or mark it 'final: true'"
    ]


def test_cli_text_output_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", write(CLEAN)]) == 0
    assert capsys.readouterr() == ("", "")

    broken = clean_with("flow: support\n", "flow: broken\n").replace("    final: true\n", "", 1)
    write(broken, "broken.yaml")
    assert main(["lint", "flows"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "flows:1:1: error: exactly one flow must say 'default: true' (found: none)",
        "flows/broken.yaml:17:3: error: state 'hours' has no way out; add choices or mark it 'final: true'",
    ]
    assert err == "textdesk lint: 2 errors, 0 warnings\n"


def test_cli_warnings_alone_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    path = write(CLEAN.replace("faqs:\n", "  orphan:\n    say: Hi\n    final: true\nfaqs:\n"))
    assert main(["lint", path]) == 0
    out, err = capsys.readouterr()
    assert out == (
        f"{FLOW}:30:3: warning: state 'orphan' is never reached: "
        "no route from the start state or a global keyword goes there\n"
    )
    assert err == "textdesk lint: 0 errors, 1 warning\n"


def test_cli_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    path = write(clean_with("    say: Open 9-5.\n    final: true\n", "    say: Open 9-5.\n"))
    assert main(["lint", "--format", "json", path]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out) == [
        {
            "file": FLOW,
            "line": 17,
            "col": 3,
            "severity": "error",
            "message": "state 'hours' has no way out; add choices or mark it 'final: true'",
        }
    ]
    assert err == ""
    assert main(["lint", "--format", "json", write(CLEAN)]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_cli_defaults_to_the_flows_folder(capsys: pytest.CaptureFixture[str]) -> None:
    write(CLEAN)
    assert main(["lint"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_bad_path_exits_2_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    write(CLEAN)
    assert main(["lint", "flows/support.yaml", "flows/suport.yaml", "nowhere"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "textdesk lint: error: no such file or folder: flows/suport.yaml",
        "textdesk lint: error: no such file or folder: nowhere",
    ]


def test_cli_bad_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lint", "--format", "xml"])
    assert info.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def _overlaps_by_every_pair(flow: Flow) -> list[str]:
    """The FAQ-overlap rule spelled out: every phrasing pair of every two FAQs scored one by one."""
    found = []
    threshold = flow.settings.match_threshold
    scorer = FaqIndex(flow.faqs, threshold, flow.settings.ambiguity_margin).scorer  # the FAQ score
    forms = [[(p, match_form(n)) for p in faq.phrasings if (n := normalize(p))] for faq in flow.faqs]
    for i, first in enumerate(flow.faqs):
        for j in range(i + 1, len(flow.faqs)):
            scored = [(scorer(na, nb), a, b) for a, na in forms[i] for b, nb in forms[j]]
            if scored:
                score, a, b = max(scored, key=lambda t: t[0])  # the first of equal scores
                if score >= threshold:
                    found.append(
                        f"FAQ '{flow.faqs[j].faq_id}' competes with FAQ '{first.faq_id}' (line {first.pos.line}): "
                        f"'{b}' and '{a}' score {score:.0f} (match_threshold {threshold}); "
                        "customers may get the other answer or a 'Did you mean'"
                    )
    return sorted(found)


@pytest.mark.parametrize("size", [179, 400])
def test_faq_overlaps_are_those_of_scoring_every_pair(size: int) -> None:
    # The check scores in bulk (one C-level pass per phrasing); the warnings must be
    # exactly those of the rule, ties included (generated FAQs share many words).
    flow = dataclasses.replace(load_flow(RETAIL), faqs=tuple(faq_set(size)))
    got = sorted(f.message for f in lint_flow(flow) if " competes with FAQ " in f.message)
    assert got == _overlaps_by_every_pair(flow)
    assert size == 179 or len(got) > 20  # the bigger set has competing FAQs to compare


@pytest.mark.parametrize("threshold", [0, 40, 70, 95, 100])
def test_faq_overlaps_equal_every_pair_at_any_threshold_and_with_typos(threshold: int) -> None:
    # Typos and shorthand make pairs that share few or no words score through
    # their characters: the part of the check bounded by sorted characters.
    rng = random.Random(threshold)
    faqs = [
        dataclasses.replace(faq, phrasings=(*faq.phrasings, *(roughen(p, rng) for p in faq.phrasings)))
        for faq in faq_set(400 if threshold > 70 else 150)
    ]
    base = load_flow(RETAIL)
    flow = dataclasses.replace(
        base, faqs=tuple(faqs), settings=dataclasses.replace(base.settings, match_threshold=threshold)
    )
    got = sorted(f.message for f in lint_flow(flow) if " competes with FAQ " in f.message)
    assert got == _overlaps_by_every_pair(flow)
    assert len(got) > 5
