"""A transcript file's structure: the flow it tests, the customer's number, and its tests.

Each test (a ``Case``) has a name, an optional ``start`` (a state and
variables to begin in instead of a new conversation) and its steps, which
bot.transcripts.steps reads. Names must be unique in a file: a report names a
failing test by its name.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from bot.flows import Pos
from bot.flows.sections import e164_number
from bot.flows.yamlnodes import Reader
from bot.transcripts.keys import entries as keyed
from bot.transcripts.keys import misspelt
from bot.transcripts.model import Case, Start, Step, Transcript
from bot.transcripts.steps import read_step, read_variables

__all__ = ["CASE_KEYS", "START_KEYS", "TOP_KEYS", "read_transcript"]

TOP_KEYS = ("flow", "from", "tests")
CASE_KEYS = ("name", "start", "steps")
START_KEYS = ("state", "vars")


def read_transcript(r: Reader, node: Node) -> Transcript | None:
    """The file's top level: the flow it tests, the customer's number and its tests."""
    if _is_flow(node):
        # 'textdesk test flows' names the flows folder rather than its tests/:
        # one line saying so, not every key of the flow as unknown.
        r.error(
            node,
            "this is a flow file (it has 'states:'), not a conversation test; 'textdesk test' runs the tests "
            "in the flows folder's tests/ (format: flows/tests/README.md)",
        )
        return None
    top = keyed(r, node, "the transcript file", TOP_KEYS, "file")
    if top is None:
        return None
    flow = flow_pos = customer = None
    if "flow" in top:
        flow = r.text(top["flow"][1], "'flow'")
        flow_pos = r.pos(top["flow"][1])
    if "from" in top:
        customer = _number(r, top["from"][1])
    cases: list[Case] = []
    if "tests" in top:
        seen: dict[str, Pos] = {}
        for item in r.sequence(top["tests"][1], "'tests'") or []:
            case = _case(r, item)
            if case is None:
                continue
            if case.name in seen:
                first = seen[case.name].line
                r.error(item, f"two tests are named '{case.name}' (first at line {first}); give each its own name, "
                        "which is how a failure is reported")
                continue
            seen[case.name] = case.pos
            cases.append(case)
    elif "tests" not in misspelt(node, TOP_KEYS, "file"):
        r.error(node, "the file has no 'tests:'; expected a list of tests, each with a 'name' and 'steps'")
    return Transcript(r.file, r.pos(node), tuple(cases), flow, flow_pos, customer)


def _is_flow(node: Node) -> bool:
    if not isinstance(node, MappingNode):
        return False
    keys = {key.value for key, _ in node.value if isinstance(key, ScalarNode)}
    return "states" in keys and "tests" not in keys


def _number(r: Reader, node: Node) -> str | None:
    value = r.text(node, "'from'")
    if value is None:
        return None
    number = e164_number(value)
    if number is None:
        r.error(node, f"'from' should be a phone number in E.164 form like +15550100001, got '{value}'")
        return None
    return number


# Line breaks as terminals and editors break on them (str.splitlines' set). Other
# control characters the reader refuses in any text already (bot.flows.yamlnodes).
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _not_one_line(name: str) -> str:
    """The line break that keeps ``name`` from printing as one line ("" if none).

    A report line is ``FAIL file: name``: a break in the name made the rest read as a
    line of its own. A folded (``>``) name ends with a break, stripped before this.
    """
    for ch in name:
        if ch in _BREAKS:
            return f"a line break (U+{ord(ch):04X})"
    return ""


def _case(r: Reader, node: Node) -> Case | None:
    entries = keyed(r, node, "a test", CASE_KEYS, "test")
    if entries is None:
        return None
    name = r.text(entries["name"][1], "the test's 'name'") if "name" in entries else None
    if name is not None:
        odd = _not_one_line(name.strip())
        if odd:
            r.error(entries["name"][1], f"the test's 'name' should be one line of text (it names the test in "
                    f"reports); it has {odd}")
            name = None
    meant = misspelt(node, CASE_KEYS, "test")
    if "name" not in entries and "name" not in meant:
        r.error(node, "a test needs a 'name' (what it checks, in a few words)")
    start = _start(r, entries["start"][1]) if "start" in entries else None
    steps: list[Step] = []
    if "steps" not in entries:
        if "steps" not in meant:
            r.error(node, "a test needs 'steps': a list of texts the customer sends")
    else:
        items = r.sequence(entries["steps"][1], "'steps'")
        if items is not None and not items:
            r.error(entries["steps"][1], "'steps' is empty; expected at least one text")
        for item in items or []:
            step = read_step(r, item)
            if step is not None:
                steps.append(step)
    if name is None:
        return None
    return Case(name.strip(), r.pos(node), tuple(steps), start)


def _start(r: Reader, node: Node) -> Start | None:
    entries = keyed(r, node, "'start'", START_KEYS, "start")
    if entries is None:
        return None
    if "state" not in entries:
        if "state" not in misspelt(node, START_KEYS, "start"):
            r.error(node, "'start' needs a 'state' to begin the conversation in")
        return None
    state = r.text(entries["state"][1], "the start 'state'")
    variables: dict[str, str] = {}
    for key, value in read_variables(r, entries["vars"][1]).items() if "vars" in entries else ():
        if value is None:
            r.error(entries["vars"][1], f"start variable '{key}' has no value; leave it out instead")
        else:
            variables[key] = value
    if state is None:
        return None
    return Start(r.pos(entries["state"][1]), state.strip(), variables)
