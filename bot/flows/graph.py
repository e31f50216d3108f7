"""``textdesk graph``: a flow as a Mermaid or Graphviz DOT diagram.

The diagram is drawn from the loaded ``Flow`` the engine runs, never from the
YAML text, so it cannot disagree with what customers get. It is written by
hand rather than through ``transitions``' ``GraphMachine``: the labels need
what the customer texts (keywords, option text, pattern), which the machine
does not know, and plain text output needs no graphviz and is byte-for-byte
deterministic (nodes and edges in file order, ids by position).

What is drawn:
- a ``start`` dot pointing at the start state; final states with a double
  border (DOT) or as stadiums (Mermaid);
- one edge per route, labelled with what matches it: ``sends a photo`` (and
  the like) for an attachment, keywords joined by `` / ``, ``~text`` for fuzzy
  ``option`` text, ``/regex/`` for a pattern, ``otherwise``; a route without
  ``go`` stays in its state (a dashed loop);
- one "any state" node for the global keywords, drawn once instead of from
  every state, and one node listing the FAQs, which any state answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.flows.model import Flow, Route

__all__ = [
    "Diagram",
    "Edge",
    "Format",
    "Node",
    "diagram",
    "dot_text",
    "mermaid_limits",
    "mermaid_text",
    "render",
    "route_label",
    "to_dot",
    "to_mermaid",
]

Format = Literal["mermaid", "dot"]
NodeKind = Literal["entry", "state", "final", "any", "faqs"]

LEGEND = "keywords are exact (a / b), ~text matches loosely, /regex/ is a pattern; dashed: stays in the state"


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: NodeKind
    lines: tuple[str, ...]  # the label, one item per line; raw text, escaped by each renderer


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str
    stays: bool = False  # a route without ``go``, or an FAQ answer: the state does not change


@dataclass(frozen=True, slots=True)
class Diagram:
    name: str
    path: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


_SENT = {"photo": "sends a photo", "video": "sends a video", "audio": "sends audio", "media": "sends an attachment"}


def route_label(route: Route) -> str:
    """What the customer sends to take ``route``, in the order the engine tries them."""
    parts: list[str] = []
    if route.sent:
        parts.append(_SENT.get(route.sent, f"sends {route.sent}"))
    if route.keywords:
        parts.append(" / ".join(route.keywords))
    if route.pattern is not None:
        parts.append(f"/{route.pattern.pattern}/")
    if route.option:
        parts.append(f"~{route.option}")
    return " or ".join(parts) or "otherwise"


def diagram(flow: Flow) -> Diagram:
    """The flow's nodes and edges, renderer-neutral."""
    # Ids by position, not by state name: names like ``end`` or ``graph`` are
    # keywords in Mermaid and DOT, and ``a-b`` is not a valid DOT id.
    ids = {name: f"s{index}" for index, name in enumerate(flow.states, start=1)}
    nodes = [Node("entry", "entry", ("start",))]
    nodes += [Node(ids[n], "final" if s.final else "state", (n,)) for n, s in flow.states.items()]
    edges = [Edge("entry", ids[flow.start], "")]
    if flow.global_routes or flow.faqs:
        nodes.append(Node("any", "any", ("any state",)))
    for route in flow.global_routes:
        edges.append(_edge("any", route, ids))
    for name, state in flow.states.items():
        edges += [_edge(ids[name], route, ids) for route in state.choices]
        if state.otherwise is not None:
            edges.append(_edge(ids[name], state.otherwise, ids, "otherwise"))
    if flow.faqs:
        title = f"{len(flow.faqs)} FAQ{'s' if len(flow.faqs) != 1 else ''}, answered from any state:"
        nodes.append(Node("faqs", "faqs", (title, *(faq.question for faq in flow.faqs))))
        edges.append(Edge("any", "faqs", "a question", stays=True))
    return Diagram(flow.name, flow.path, tuple(nodes), tuple(edges))


def _edge(source: str, route: Route, ids: dict[str, str], label: str = "") -> Edge:
    if route.go is None:
        return Edge(source, source, label or route_label(route), stays=True)
    return Edge(source, ids[route.go], label or route_label(route))


def render(flow: Flow, fmt: Format = "mermaid") -> str:
    """The flow as a diagram in ``fmt``."""
    return to_dot(flow) if fmt == "dot" else to_mermaid(flow)


# -- Mermaid -------------------------------------------------------------------

# Inside a quoted Mermaid label only ``"`` ends the text, but ``#...;`` is read
# as an entity code, ``|`` ends an edge label, ``<``/``>``/``&`` are HTML, and a
# backtick opens a Markdown string. Entity codes (``#quot;``) are how Mermaid
# documents escaping them.
_MERMAID = {"#": "#35;", '"': "#quot;", "|": "#124;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}


def mermaid_text(text: str) -> str:
    """``text`` as the inside of a double-quoted Mermaid label (one line)."""
    return "".join(_MERMAID.get(ch, ch) for ch in " ".join(text.split()))


# Mermaid's defaults (``maxEdges``, ``maxTextSize``, counted in JavaScript's
# UTF-16 units). A diagram's own ``%%{init}%%`` cannot raise them (they are
# "secure" settings), so past them a viewer shows an error instead of the flow.
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000


def mermaid_limits(flow: Flow, text: str) -> list[str]:
    """Why ``text``, the Mermaid diagram of ``flow``, would not draw in a viewer with Mermaid's defaults."""
    out: list[str] = []
    edges = len(diagram(flow).edges)
    if edges > MERMAID_MAX_EDGES:
        out.append(f"this diagram has {edges:,} edges; Mermaid draws at most {MERMAID_MAX_EDGES:,} by default "
                   "(its maxEdges setting)")
    units = len(text.encode("utf-16-le")) // 2
    if units > MERMAID_MAX_TEXT:
        out.append(f"this diagram is {units:,} characters long; Mermaid draws at most {MERMAID_MAX_TEXT:,} by "
                   "default (its maxTextSize setting)")
    return out


_MERMAID_SHAPES = {
    "entry": '(("{}"))',
    "state": '["{}"]',
    "final": '(["{}"])',
    "any": '>"{}"]',
    "faqs": '["{}"]',
}


def to_mermaid(flow: Flow) -> str:
    """A Mermaid ``flowchart``: paste into Markdown, or any Mermaid viewer."""
    d = diagram(flow)
    out = [f"%% flow '{' '.join(d.name.split())}' from {' '.join(d.path.split())}", f"%% {LEGEND}", "flowchart TD"]
    for node in d.nodes:
        label = "<br>".join(mermaid_text(line) for line in node.lines)
        out.append(f"    {node.id}{_MERMAID_SHAPES[node.kind].format(label)}")
    for edge in d.edges:
        arrow = "-.->" if edge.stays else "-->"
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        out.append(f"    {edge.source} {arrow}{label} {edge.target}")
    finals = [n.id for n in d.nodes if n.kind == "final"]
    out.append("    classDef final stroke-width:3px")
    out.append("    classDef note stroke-dasharray:4 3,text-align:left")
    if finals:
        out.append(f"    class {','.join(finals)} final")
    notes = [n.id for n in d.nodes if n.kind in ("any", "faqs")]
    if notes:
        out.append(f"    class {','.join(notes)} note")
    return "\n".join(out) + "\n"


# -- Graphviz DOT ----------------------------------------------------------------


def dot_text(text: str) -> str:
    """``text`` as the inside of a double-quoted DOT string (one line).

    Backslashes are doubled first: in DOT labels ``\\n``, ``\\l``, ``\\N`` and
    friends are escapes, and a pattern like ``\\bAC\\d`` must show as written.
    """
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


_DOT_SHAPES = {
    "entry": 'shape=circle, style=filled, fillcolor=black, fontcolor=white, fontsize=10, label="{}"',
    "state": 'shape=box, style=rounded, label="{}"',
    "final": 'shape=box, style=rounded, peripheries=2, label="{}"',
    "any": 'shape=box, style="rounded,dashed", label="{}"',
    "faqs": 'shape=note, label="{}"',
}


def to_dot(flow: Flow) -> str:
    """A Graphviz ``digraph``: ``textdesk graph --format dot | dot -Tsvg > flow.svg``."""
    d = diagram(flow)
    out = [
        f"// flow '{' '.join(d.name.split())}' from {' '.join(d.path.split())}",
        f"// {LEGEND}",
        f'digraph "{dot_text(d.name)}" {{',
        '    node [fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in d.nodes:
        # ``\l`` ends a left-aligned line: the FAQ list reads as a list.
        sep = "\\l" if node.kind == "faqs" else "\\n"
        label = sep.join(dot_text(line) for line in node.lines) + ("\\l" if node.kind == "faqs" else "")
        out.append(f"    {node.id} [{_DOT_SHAPES[node.kind].format(label)}];")
    for edge in d.edges:
        attrs = [f'label="{dot_text(edge.label)}"'] if edge.label else []
        if edge.stays:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        out.append(f"    {edge.source} -> {edge.target}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"
