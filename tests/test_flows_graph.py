"""``textdesk graph``: diagrams drawn from the loaded flow, in Mermaid and DOT.

The small flow's diagrams are compared whole (they are short enough to read);
the bundled retail flow is checked for every state and route, and against the
``transitions`` machine the engine runs, so the picture cannot drift from it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.engine import build_machine
from bot.flows import Flow, load_flow
from bot.flows.graph import Format, diagram, dot_text, mermaid_text, render, route_label, to_dot, to_mermaid

ROOT = Path(__file__).resolve().parent.parent
RETAIL = ROOT / "flows" / "retail.yaml"

SMALL = """\
flow: bikes
start: menu
global:
  - keywords: [MENU, HOME]
    go: menu
  - keywords: [THANKS]
    say: You're welcome!
states:
  menu:
    say: Reply 1 or a ticket number.
    choices:
      - keywords: ["1", HOURS]
        option: Opening hours
        go: hours
      - pattern: 'R-(?P<ticket>\\d{4})'
        go: ticket
    otherwise:
      say: Please reply 1.
  hours:
    say: Open 9-5.
    final: true
  ticket:
    say: Ticket {ticket} is ready.
    final: true
faqs:
  - question: Do you do tubeless?
    answer: Yes.
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows").mkdir()
    return tmp_path


def write(text: str, name: str = "bikes.yaml") -> str:
    path = Path("flows") / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def small() -> Flow:
    return load_flow(write(SMALL))


@pytest.fixture(scope="module")
def retail() -> Flow:
    return load_flow(RETAIL)


def test_small_flow_as_mermaid(small: Flow) -> None:
    assert to_mermaid(small) == (
        "%% flow 'bikes' from flows/bikes.yaml\n"
        "%% keywords are exact (a / b), ~text matches loosely, /regex/ is a pattern; dashed: stays in the state\n"
        "flowchart TD\n"
        '    entry(("start"))\n'
        '    s1["menu"]\n'
        '    s2(["hours"])\n'
        '    s3(["ticket"])\n'
        '    any>"any state"]\n'
        '    faqs["1 FAQ, answered from any state:<br>Do you do tubeless?"]\n'
        "    entry --> s1\n"
        '    any -->|"MENU / HOME"| s1\n'
        '    any -.->|"THANKS"| any\n'
        '    s1 -->|"1 / HOURS or ~Opening hours"| s2\n'
        '    s1 -->|"/R-(?P#lt;ticket#gt;\\d{4})/"| s3\n'
        '    s1 -.->|"otherwise"| s1\n'
        '    any -.->|"a question"| faqs\n'
        "    classDef final stroke-width:3px\n"
        "    classDef note stroke-dasharray:4 3,text-align:left\n"
        "    class s2,s3 final\n"
        "    class any,faqs note\n"
    )


def test_small_flow_as_dot(small: Flow) -> None:
    assert to_dot(small) == (
        "// flow 'bikes' from flows/bikes.yaml\n"
        "// keywords are exact (a / b), ~text matches loosely, /regex/ is a pattern; dashed: stays in the state\n"
        'digraph "bikes" {\n'
        '    node [fontname="Helvetica"];\n'
        '    edge [fontname="Helvetica", fontsize=10];\n'
        '    entry [shape=circle, style=filled, fillcolor=black, fontcolor=white, fontsize=10, label="start"];\n'
        '    s1 [shape=box, style=rounded, label="menu"];\n'
        '    s2 [shape=box, style=rounded, peripheries=2, label="hours"];\n'
        '    s3 [shape=box, style=rounded, peripheries=2, label="ticket"];\n'
        '    any [shape=box, style="rounded,dashed", label="any state"];\n'
        '    faqs [shape=note, label="1 FAQ, answered from any state:\\lDo you do tubeless?\\l"];\n'
        "    entry -> s1;\n"
        '    any -> s1 [label="MENU / HOME"];\n'
        '    any -> any [label="THANKS", style=dashed];\n'
        '    s1 -> s2 [label="1 / HOURS or ~Opening hours"];\n'
        '    s1 -> s3 [label="/R-(?P<ticket>\\\\d{4})/"];\n'
        '    s1 -> s1 [label="otherwise", style=dashed];\n'
        '    any -> faqs [label="a question", style=dashed];\n'
        "}\n"
    )


def test_render_picks_the_format(small: Flow) -> None:
    assert render(small) == to_mermaid(small)
    assert render(small, "mermaid") == to_mermaid(small)
    assert render(small, "dot") == to_dot(small)


def test_flow_without_globals_or_faqs_has_no_any_state_node() -> None:
    flow = load_flow(write("start: only\nstates:\n  only:\n    say: Hi\n    final: true\n", "tiny.yaml"))
    assert to_mermaid(flow).splitlines()[3:] == [
        '    entry(("start"))',
        '    s1(["only"])',
        "    entry --> s1",
        "    classDef final stroke-width:3px",
        "    classDef note stroke-dasharray:4 3,text-align:left",
        "    class s1 final",
    ]


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_retail_diagram_has_every_state_and_route(retail: Flow, fmt: Format) -> None:
    text = render(retail, fmt)
    escape = dot_text if fmt == "dot" else mermaid_text
    for name in retail.states:
        assert f'"{name}"' in text, name
    routes = [*retail.global_routes]
    for state in retail.states.values():
        routes += [*state.choices, *([state.otherwise] if state.otherwise else [])]
    for route in routes:
        label = "otherwise" if route.route_id.endswith("/otherwise") else route_label(route)
        assert f'"{escape(label)}"' in text, route.route_id
    for faq in retail.faqs:
        assert escape(faq.question) in text, faq.faq_id
    # Spot checks written out, so route_label itself is pinned down too.
    assert "1 / HOURS / STORE HOURS or ~Store hours" in text
    assert "AGENT / HUMAN / PERSON / REPRESENTATIVE" in text
    assert f"{len(retail.faqs)} FAQs, answered from any state:" in text


def test_diagram_edges_are_the_engines_transitions(retail: Flow) -> None:
    """Every (state, route) -> state the shared machine can fire is an edge, and nothing else."""
    machine = build_machine(retail)
    fired: set[tuple[str, str]] = set()
    for trigger, event in machine.events.items():
        if "/" not in trigger:  # faq, say, fallback, restart: internal, not routes
            continue
        for source, transitions in event.transitions.items():
            for transition in transitions:
                fired.add((source, transition.dest or source))
    d = diagram(retail)
    names = {f"s{i}": name for i, name in enumerate(retail.states, start=1)}
    drawn: set[tuple[str, str]] = set()
    for edge in d.edges:
        if edge.source == "any" and edge.target != "faqs":  # a global route, from every state
            drawn |= {(s, names.get(edge.target, s)) for s in retail.states}
        elif edge.source in names:
            drawn.add((names[edge.source], names[edge.target]))
    assert drawn == fired


def test_output_is_deterministic(retail: Flow) -> None:
    again = load_flow(RETAIL)
    formats: tuple[Format, ...] = ("mermaid", "dot")
    for fmt in formats:
        first = render(retail, fmt)
        assert render(retail, fmt) == first
        assert render(again, fmt) == first


# --- escaping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mermaid", "dot"),
    [
        ('say "hi"', "say #quot;hi#quot;", 'say \\"hi\\"'),
        ("a | b", "a #124; b", "a | b"),
        ("[x] {y} (z)", "[x] {y} (z)", "[x] {y} (z)"),
        ("<b> & `c`", "#lt;b#gt; #amp; #96;c#96;", "<b> & `c`"),
        ("#quot; stays text", "#35;quot; stays text", "#quot; stays text"),
        ("\\d+\\n", "\\d+\\n", "\\\\d+\\\\n"),
        ("two\nlines  and   spaces", "two lines and spaces", "two lines and spaces"),
    ],
)
def test_label_escaping(text: str, mermaid: str, dot: str) -> None:
    assert mermaid_text(text) == mermaid
    assert dot_text(text) == dot


def test_awkward_names_and_labels_are_escaped_in_place() -> None:
    # State names that are keywords in Mermaid ('end') or DOT ('graph') get
    # positional ids; keywords, option text and patterns keep every character.
    flow = load_flow(
        write(
            """\
flow: odd
start: end
global:
  - keywords: ['say "hi" | bye']
    go: graph
states:
  end:
    say: Hi
    choices:
      - keywords: ["[x]"]
        option: 'a <b> & `c` #35;'
        go: graph
      - pattern: '\\d+\\|"q"'
        go: end
    otherwise:
      say: "no"
  graph:
    say: bye
    final: true
""",
            "odd.yaml",
        )
    )
    mermaid = to_mermaid(flow).splitlines()
    assert '    s1["end"]' in mermaid
    assert '    s2(["graph"])' in mermaid
    assert '    any -->|"say #quot;hi#quot; #124; bye"| s2' in mermaid
    assert '    s1 -->|"[x] or ~a #lt;b#gt; #amp; #96;c#96; #35;35;"| s2' in mermaid
    assert '    s1 -->|"/\\d+\\#124;#quot;q#quot;/"| s1' in mermaid
    dot = to_dot(flow).splitlines()
    assert '    any -> s2 [label="say \\"hi\\" | bye"];' in dot
    assert '    s1 -> s2 [label="[x] or ~a <b> & `c` #35;"];' in dot
    assert '    s1 -> s1 [label="/\\\\d+\\\\|\\"q\\"/"];' in dot


# --- the command -----------------------------------------------------------------------


def test_cli_prints_the_default_flow_as_mermaid(capsys: pytest.CaptureFixture[str], small: Flow) -> None:
    assert main(["graph"]) == 0
    assert capsys.readouterr() == (to_mermaid(small), "")
    assert main(["graph", "--format", "dot", "--flows", "flows"]) == 0
    assert capsys.readouterr().out == to_dot(small)


def test_cli_picks_a_flow_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    write(SMALL.replace("flow: bikes\n", "flow: bikes\ndefault: true\n"))
    other = load_flow(write("flow: other\nstart: only\nstates:\n  only:\n    say: Hi\n    final: true\n", "o.yaml"))
    assert main(["graph", "--flow", "other"]) == 0
    assert capsys.readouterr().out == to_mermaid(other)


def test_cli_unknown_flow_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    write(SMALL)
    assert main(["graph", "--flow", "bike"]) == 2
    assert capsys.readouterr() == (
        "",
        "textdesk graph: error: no flow named 'bike' (did you mean 'bikes'?); flows: bikes\n",
    )


def test_cli_missing_folder_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--flows", "nowhere"]) == 2
    assert capsys.readouterr() == ("", "textdesk graph: error: flows folder not found: nowhere\n")


def test_cli_flows_with_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    write(SMALL.replace("        go: hours\n", "        go: hour\n"))
    assert main(["graph"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "flows/bikes.yaml:14:13: error: state 'hour' does not exist (did you mean 'hours'?)",
        "textdesk graph: the flows have errors; fix them first (see 'textdesk lint')",
    ]


def test_cli_bad_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["graph", "--format", "png"])
    assert info.value.code == 2
    assert "invalid choice: 'png'" in capsys.readouterr().err


def test_media_route_is_labelled_with_what_the_customer_sends() -> None:
    text = SMALL.replace(
        "      - pattern:", "      - sent: photo\n        keywords: [PIC]\n        go: hours\n      - pattern:"
    )
    mermaid = to_mermaid(load_flow(write(text))).splitlines()
    assert '    s1 -->|"sends a photo or PIC"| s2' in mermaid
