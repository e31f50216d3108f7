"""The flow's sections besides its states: numbers, settings, compliance, variables and FAQs.

Each reader takes one section's node and returns its typed value, recording
every problem on the context's reader; a bad entry is left out and the rest of
the section is still read.
"""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode

from bot.compliance.keywords import ComplianceKeywords
from bot.flows.context import LoadContext, trim
from bot.flows.errors import Pos, typo_targets
from bot.flows.model import Compliance, Faq, Settings
from bot.flows.regexes import compile_regex

__all__ = [
    "COMPLIANCE_KEYS",
    "FAQ_KEYS",
    "SETTING_KEYS",
    "e164_number",
    "read_compliance",
    "read_faqs",
    "read_numbers",
    "read_settings",
    "read_variables",
]

COMPLIANCE_KEYS = ("opt_out", "opt_in", "help", "revocation_patterns")
FAQ_KEYS = ("id", "question", "also", "answer", "media")
SETTING_KEYS = (
    "brand",
    "match_threshold",
    "ambiguity_margin",
    "idle_timeout",
    "welcome_back",
    "fallback",
    "help",
    "did_you_mean",
    "opt_out_reply",
    "opt_in_reply",
    "max_segments",
    "segment_budget",
    "smart_encoding",
    "lost_state",
    "lost_notice",
)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def e164_number(value: str) -> str | None:
    """A phone number as an editor writes it ("+1 555-555-0100"), in E.164; None if it is not one."""
    number = value.strip().replace(" ", "").replace("-", "")
    return number if _E164.match(number) else None


def read_numbers(ctx: LoadContext, node: Node) -> tuple[str, ...]:
    out: list[str] = []
    seen: dict[str, Pos] = {}
    for value, item in ctx.reader.texts(node, "'numbers'") or []:
        number = e164_number(value)
        if number is None:
            ctx.reader.error(item, f"'{value}' is not a phone number in E.164 form like +15555550100")
        elif number in seen:
            ctx.reader.error(item, f"number {number} is listed twice (first at line {seen[number].line})")
        else:
            seen[number] = ctx.reader.pos(item)
            out.append(number)
    return tuple(out)


def read_settings(ctx: LoadContext, node: Node) -> Settings:
    r = ctx.reader
    before = ctx.errors()
    entries = r.mapping(node, "'settings'", SETTING_KEYS) or {}
    if ctx.errors() > before:  # an unknown or doubled key may be any setting, meant with another value
        ctx.flawed_sections.add("settings.*")
    values: dict[str, object] = {"positions": {key: r.pos(value) for key, (_, value) in entries.items()}}
    for key, (_, value) in entries.items():
        before = ctx.errors()
        if key in ("match_threshold", "ambiguity_margin"):
            parsed: object = r.integer(value, f"'{key}'", 0, 100)
        elif key in ("max_segments", "segment_budget"):
            # 10 segments is the most any carrier concatenates (Telnyx caps there).
            parsed = r.integer(value, f"'{key}'", 1, 10)
        elif key == "smart_encoding":
            parsed = r.boolean(value, "'smart_encoding'")
        elif key == "idle_timeout":
            parsed = r.duration(value, "'idle_timeout'")
        else:
            parsed = trim(r.text(value, f"'{key}'")) or None
        if ctx.errors() > before:
            ctx.flawed_sections.add(f"settings.{key}")
        if parsed is not None:
            values[key] = parsed
            if key == "lost_state":
                ctx.gotos.append((str(parsed), value))
    return Settings(**values)  # type: ignore[arg-type]


def read_compliance(ctx: LoadContext, node: Node) -> Compliance:
    r = ctx.reader
    entries = r.mapping(node, "'compliance'", COMPLIANCE_KEYS) or {}
    lists: dict[str, tuple[str, ...]] = {}
    for key, (_, value) in entries.items():
        items = r.texts(value, f"'{key}'") or []
        lists[key] = tuple(v for v, _ in items)
        if key != "revocation_patterns":
            continue
        # Each pattern on its own first, so a bad one is reported where it is
        # written, whichever way re.compile refuses it; the good ones are kept,
        # so the keyword check below still runs.
        good = []
        for source, item in items:
            compiled = compile_regex(source)
            if isinstance(compiled, str):
                shown = source if len(source) <= 40 else source[:40] + "..."
                r.error(item, f"revocation pattern '{shown}' {compiled}")
            else:
                good.append(source)
        lists[key] = tuple(good)
    compliance = Compliance(**lists)
    try:
        # Building the keyword set validates the additions: a word may not
        # change meaning (STOP cannot become an opt-in) and patterns compile.
        ComplianceKeywords(
            extra_opt_out=compliance.opt_out,
            extra_opt_in=compliance.opt_in,
            extra_help=compliance.help,
            extra_revocation_patterns=compliance.revocation_patterns,
        )
    except (ValueError, TypeError) as exc:
        r.error(node, f"compliance keywords: {exc}")
        # The flow is still checked (reserved keywords...) with what is sure:
        # the built-in words, and the patterns that compiled.
        return Compliance(revocation_patterns=compliance.revocation_patterns)
    return compliance


def read_variables(ctx: LoadContext, node: Node) -> dict[str, int]:
    r = ctx.reader
    out: dict[str, int] = {}
    before = ctx.errors()
    entries = r.mapping(node, "'variables'")
    if entries is None or ctx.errors() > before:  # a doubled name: which length was meant?
        ctx.flawed_sections.add("variables.*")
    for name, (key_node, value) in (entries or {}).items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            r.error(key_node, f"variable name '{name}' should use only letters, digits and '_'")
            continue
        length = r.integer(value, f"the longest value of '{name}'", 1, 1600)
        if length is None:
            ctx.unknown_lengths.add(name)
        else:
            out[name] = length
    return out


def read_faqs(ctx: LoadContext, node: Node) -> tuple[Faq, ...]:
    r = ctx.reader
    faqs: list[Faq] = []
    seen: dict[str, Pos] = {}
    for index, item in enumerate(r.sequence(node, "'faqs'") or [], start=1):
        entries = r.mapping(item, "an FAQ", FAQ_KEYS)
        if entries is None:
            continue
        faq_id = f"faq-{index}"
        if "id" in entries:
            faq_id = ctx.name(entries["id"][1], "FAQ id") or faq_id
            if faq_id in seen:
                r.error(entries["id"][1], f"FAQ id '{faq_id}' is used twice (first at line {seen[faq_id].line})")
        elif faq_id in seen:
            # An FAQ without 'id' is named by its place; two FAQs with one id would
            # make "Did you mean" answers (looked up by id) pick the wrong one.
            msg = f"this FAQ has no 'id' and its automatic id '{faq_id}' is already used at line"
            r.error(item, f"{msg} {seen[faq_id].line}; give it an 'id'")
        seen.setdefault(faq_id, r.pos(item))
        question = r.text(entries["question"][1], "'question'") if "question" in entries else None
        answer = r.text(entries["answer"][1], "'answer'") if "answer" in entries else None
        # A key missing because it is misspelt ('questionx') is reported once, as the typo.
        misspelt = _misspelt(item, FAQ_KEYS)
        if question is None and "question" not in entries and "question" not in misspelt:
            r.error(item, "an FAQ needs a 'question'")
        if answer is None and "answer" not in entries and "answer" not in misspelt:
            r.error(item, "an FAQ needs an 'answer'")
        also = [v for v, _ in r.texts(entries["also"][1], "'also'") or []] if "also" in entries else []
        media = ctx.media(entries["media"][1]) if "media" in entries else ()
        if question is None or answer is None:
            continue
        faqs.append(Faq(faq_id, r.pos(item), question.strip(), (question.strip(), *also), trim(answer), media))
    return tuple(faqs)


def _misspelt(node: Node, allowed: tuple[str, ...]) -> set[str]:
    """The allowed keys that an unknown key of mapping ``node`` reads as (its "did you mean")."""
    if not isinstance(node, MappingNode):
        return set()
    return typo_targets((k.value for k, _ in node.value if isinstance(k, ScalarNode)), allowed)
