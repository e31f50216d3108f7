"""Where the ``faqs:`` section and each FAQ are in a flow file's text, and how the file writes them."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.flows.faq_csv._model import FaqCsvError, Problem

__all__ = ["Section", "explicit_ids", "find_section"]

# Offsets below are character indexes into the flow text (PyYAML marks carry them). An item's
# *body* runs from the start of the line holding its dash to the end of the line holding its last
# value; its *gap* is what follows up to the next item (blank lines, comments). Bodies of
# unchanged FAQs and all gaps are copied as they are.


@dataclass(slots=True)
class _Item:
    start: int
    end: int
    gap_end: int
    dash_col: int
    explicit_id: str | None


@dataclass(slots=True)
class Section:
    start: int  # the 'faqs:' line
    head_end: int  # just past that line
    end: int  # the next top-level key's line, or the end of the text
    head: str = ""  # replaces text[start:head_end] when the section is new or was 'faqs: []'
    items: list[_Item] = field(default_factory=list)
    dash_col: int = 2
    indent: tuple[int, int] = (4, 2)  # ruamel's (sequence, offset), as README's example writes lists
    separator: str = "\n"  # a blank line between FAQs
    styles: dict[str, str | None] = field(default_factory=lambda: {"question": None, "answer": '"'})
    flow_lists: dict[str, bool] = field(default_factory=lambda: {"also": False, "media": True})


def find_section(text: str, file: str) -> Section:
    """Find the 'faqs:' section, its FAQs' bodies and gaps, and how the file writes them."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, MappingNode) or root.flow_style:
        raise FaqCsvError([Problem(file, 1, "the flow is not a block of 'key: value' lines")])
    pairs = root.value
    where = [n for n, (key, _) in enumerate(pairs) if isinstance(key, ScalarNode) and key.value == "faqs"]
    if not where:
        head = "faqs:\n" if text.endswith("\n\n") else "\nfaqs:\n"
        return Section(len(text), len(text), len(text), head=head)
    key, value = pairs[where[0]]
    start = _line_start(text, key.start_mark.index)
    after = where[0] + 1
    end = _line_start(text, pairs[after][0].start_mark.index) if after < len(pairs) else len(text)
    if not isinstance(value, SequenceNode) or (value.flow_style and value.value):
        line = key.start_mark.line + 1
        msg = "write 'faqs:' as a list of '- id: ...' blocks to import into it"
        raise FaqCsvError([Problem(file, line, msg)])
    if not value.value:  # faqs: []
        head_end = _line_end(text, value.end_mark.index)
        return Section(start, head_end, head_end, head="faqs:\n")
    section = Section(start, _line_end(text, key.end_mark.index), end)
    for node in value.value:
        dash = node.start_mark.index - 1
        while dash >= 0 and text[dash] in " \t\n":
            dash -= 1
        line = node.start_mark.line + 1
        if dash < 0 or text[dash] != "-" or not isinstance(node, MappingNode):
            raise FaqCsvError([Problem(file, line, "write each FAQ as a block starting '- id: ...'")])
        if _starts_before(node, dash):
            # An alias (*name) brings a node from earlier in the file: its text is not this FAQ's.
            raise FaqCsvError([Problem(file, line, "this FAQ uses a YAML alias (*name); write the text out")])
        line_start = _line_start(text, dash)
        item = _Item(line_start, _line_end(text, _content_end(text, node)), end, dash - line_start, _id_of(node))
        if section.items:
            section.items[-1].gap_end = line_start
        section.items.append(item)
        _learn_style(section, key.start_mark.column, node)
    section.dash_col = section.items[0].dash_col
    gaps = [text[i.end : i.gap_end] for i in section.items[:-1]]
    blank = sum(1 for gap in gaps if any(not line.strip() for line in gap.split("\n")[:-1]))
    section.separator = "\n" if 2 * blank >= len(gaps) else ""
    return section


def _learn_style(section: Section, top_col: int, item: MappingNode) -> None:
    """Take indentation and quoting from the file, so new FAQs look like their neighbours."""
    if section.items[0] is section.items[-1]:
        first_key = item.value[0][0].start_mark.column if item.value else top_col + 4
        section.indent = (first_key - top_col, section.items[0].dash_col - top_col)
    for key, value in item.value:
        if key.value in ("question", "answer") and isinstance(value, ScalarNode):
            section.styles[key.value] = value.style
        elif key.value in ("also", "media") and isinstance(value, SequenceNode):
            section.flow_lists[key.value] = bool(value.flow_style)
            if value.value and isinstance(value.value[0], ScalarNode):
                section.styles[key.value] = value.value[0].style
            if key.value == "also" and not value.flow_style and value.value:
                column = key.start_mark.column
                section.indent = (value.value[0].start_mark.column - column, value.start_mark.column - column)


def _starts_before(node: Node, index: int) -> bool:
    if node.start_mark.index < index:
        return True
    if isinstance(node, MappingNode):
        return any(_starts_before(k, index) or _starts_before(v, index) for k, v in node.value)
    if isinstance(node, SequenceNode):
        return any(_starts_before(child, index) for child in node.value)
    return False


def _content_end(text: str, node: Node) -> int:
    """Index just past the node's last character of content (not the comments after it)."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _content_end(text, node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _content_end(text, node.value[-1])
    end: int = node.end_mark.index
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        # A block scalar's end mark is past the blank lines that follow it.
        start: int = node.start_mark.index
        end = start + len(text[start:end].rstrip())
    return end


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Just past the line break of the line holding ``text[index - 1]``."""
    found = text.find("\n", max(index - 1, 0))
    return len(text) if found < 0 else found + 1


def explicit_ids(text: str) -> list[str | None]:
    """Each FAQ's own ``id``, or ``None`` where the loader names it by its place."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for key, value in root.value if isinstance(root, MappingNode) else ():
        if key.value == "faqs" and isinstance(value, SequenceNode):
            return [_id_of(item) for item in value.value]
    return []


def _id_of(item: Node) -> str | None:
    if isinstance(item, MappingNode):
        for key, value in item.value:
            if key.value == "id" and isinstance(value, ScalarNode):
                found: str = value.value
                return found
    return None
