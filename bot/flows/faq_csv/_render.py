"""One FAQ as YAML: an existing one edited in place with ruamel.yaml's round-trip loader, or a new one.

An edit keeps the FAQ's comments, key order and quoting and rewrites only the values that changed;
a new FAQ is indented and quoted like the FAQs before it. Either way, text a YAML 1.1 reader would
take for anything but text is quoted.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, SingleQuotedScalarString
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from bot.flows.faq_csv._model import Entry, Report, clean, media_key
from bot.flows.faq_csv._section import Section

__all__ = ["render_new", "render_update", "round_trip_yaml"]

_KEY_ORDER = ("id", "question", "also", "answer", "media")
_STR = "tag:yaml.org,2002:str"
# Line breaks to YAML (which would fold or split the text) and a byte-order mark.
_ESCAPE = re.compile("[\x85\u2028\u2029\ufeff]")
_RESOLVER = Resolver()


def round_trip_yaml(indent: tuple[int, int]) -> YAML:
    yaml_rt = YAML(typ="rt")
    yaml_rt.preserve_quotes = True
    yaml_rt.width = 1 << 20  # never fold a long answer over several lines
    yaml_rt.indent(mapping=2, sequence=indent[0], offset=indent[1])
    return yaml_rt


def render_update(body: str, dash_col: int, entry: Entry, section: Section, yaml_rt: YAML, bad: Report) -> str:
    """Edit one FAQ in place: its comments, key order and quoting stay; changed values are replaced."""
    try:
        # Where ruamel will put the dash: comments then keep their columns.
        document = yaml_rt.load(_reindent(body, section.indent[1] - dash_col))
    except RuamelError as exc:
        row = entry.row.row if entry.row else 1
        bad(row, f"FAQ '{entry.name}' cannot be edited automatically ({exc.__class__.__name__}); edit it by hand")
        return body
    item: CommentedMap = document[0]
    if entry.new_id is not None:
        _put(item, "id", _scalar(entry.new_id, None))
    _set_text(item, "question", entry.question)
    _set_list(item, "also", entry.alternates, section, clean)
    _set_text(item, "answer", entry.answer)
    _set_list(item, "media", entry.media, section, media_key)
    return _dump(document, dash_col, section, yaml_rt)


def render_new(entry: Entry, section: Section, yaml_rt: YAML) -> str:
    """A new FAQ in the README's key order, quoted and indented like the FAQs before it."""
    item = CommentedMap()
    item["id"] = _scalar(entry.name, None)
    item["question"] = _scalar(entry.question, section.styles.get("question"))
    if entry.alternates:
        item["also"] = _new_list("also", entry.alternates, section)
    item["answer"] = _scalar(entry.answer, section.styles.get("answer"))
    if entry.media:
        item["media"] = _new_list("media", entry.media, section)
    return _dump(CommentedSeq([item]), section.dash_col, section, yaml_rt)


def _dump(document: Any, dash_col: int, section: Section, yaml_rt: YAML) -> str:
    """Dump a one-item list and move it to the section's column (ruamel puts the dash at ``offset``)."""
    stream = io.StringIO()
    yaml_rt.dump(document, stream)
    return _reindent(stream.getvalue(), dash_col - section.indent[1])


def _reindent(text: str, by: int) -> str:
    """Move every line ``by`` columns right (left when negative); empty lines stay empty."""
    out = []
    for line in text.split("\n"):
        if by >= 0:
            out.append(" " * by + line if line else line)
        else:
            out.append(line[min(-by, len(line) - len(line.lstrip(" "))) :])
    return "\n".join(out)


def _set_text(item: CommentedMap, key: str, value: str) -> None:
    old = item.get(key)
    if isinstance(old, str) and clean(old) == value:
        return
    _put(item, key, _scalar(value, _style_of(old)))


def _set_list(
    item: CommentedMap, key: str, values: tuple[str, ...], section: Section, same: Callable[[str], str]
) -> None:
    """Edit a list with the fewest changes, so comments on untouched entries stay with them.

    ``same`` gives the form two entries are compared in (media: ``./a.png`` is ``a.png``).
    """
    old = item.get(key)
    wanted = [same(v) for v in values]
    if not values:
        if key in item:
            del item[key]
        return
    if not isinstance(old, CommentedSeq):  # absent, or a single text ('also: text' is allowed)
        if not (isinstance(old, str) and [same(old)] == wanted):
            _put(item, key, _new_list(key, values, section))
        return
    current = [same(str(v)) for v in old]
    matcher = difflib.SequenceMatcher(a=current, b=wanted, autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        if i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                old[i] = _scalar(values[j], _style_of(old[i]))
            continue
        style = _style_of(old[i1]) if i1 < i2 else section.styles.get(key)
        del old[i1:i2]
        for k, value in enumerate(values[j1:j2]):
            old.insert(i1 + k, _scalar(value, style))


def _new_list(key: str, values: tuple[str, ...], section: Section) -> CommentedSeq:
    seq = CommentedSeq([_scalar(v, section.styles.get(key)) for v in values])
    if section.flow_lists.get(key):
        seq.fa.set_flow_style()
    return seq


def _put(item: CommentedMap, key: str, value: Any) -> None:
    """Set ``key``, or insert it where the README's order (id, question, also, answer, media) puts it."""
    if key in item:
        item[key] = value
        return
    before = _KEY_ORDER[: _KEY_ORDER.index(key)]
    position = 0
    for index, existing in enumerate(item):
        if existing in before:
            position = index + 1
    item.insert(position, key, value)


def _style_of(value: object) -> str | None:
    if isinstance(value, DoubleQuotedScalarString):
        return '"'
    if isinstance(value, SingleQuotedScalarString):
        return "'"
    if isinstance(value, LiteralScalarString):
        return "|"
    return None


def _scalar(value: str, style: str | None) -> str:
    """``value`` in ``style``, or plain; quoted whenever YAML 1.1 would read it as anything but text."""
    out: str = value  # plain; ruamel itself quotes what YAML 1.2 would not read as text
    if _ESCAPE.search(value):
        out = DoubleQuotedScalarString(value)  # only double quotes can escape these: \N, \L, \P, \uFEFF
    elif "\n" in value or style == "|":
        out = LiteralScalarString(value + "\n")  # '|' keeps the lines; the loader trims the last break
    elif style == "'":
        out = SingleQuotedScalarString(value)
    elif style == '"' or not _is_text(value):
        out = DoubleQuotedScalarString(value)
    return out


def _is_text(value: str) -> bool:
    """Whether a YAML 1.1 reader (PyYAML) takes ``value`` unquoted for text: ``yes``, ``1.5`` are not."""
    tag: str = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag == _STR
