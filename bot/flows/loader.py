"""Turn one flow file into a validated ``Flow``, or report every problem in it.

Validation happens in two passes over the composed YAML: the first reads each
section into typed objects (recording unknown keys, wrong types, bad regexes,
missing media), the second checks references between them (every ``go`` and
``start`` names a state). Only a file with no errors becomes a ``Flow``: a
half-loaded flow would strand customers in states that do not exist.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path

from yaml.nodes import Node

from bot.compliance.keywords import ComplianceKeywords
from bot.flows.checks import check_flow
from bot.flows.errors import Finding, FlowLoadError, Pos, did_you_mean
from bot.flows.model import Compliance, Faq, Flow, Route, Settings, State
from bot.flows.yamlnodes import Reader, compose
from bot.matching.normalize import normalize, squeeze

__all__ = ["load_flow", "load_flow_text"]

TOP_KEYS = ("flow", "default", "numbers", "start", "settings", "global", "states", "faqs", "compliance", "variables")
STATE_KEYS = ("say", "media", "choices", "otherwise", "final")
ROUTE_KEYS = ("keywords", "option", "pattern", "sent", "go", "say", "media", "subscribe")
SENT_KINDS = ("photo", "video", "audio", "media")
COMPLIANCE_KEYS = ("opt_out", "opt_in", "help", "revocation_patterns")
OTHERWISE_KEYS = ("say", "media", "go")
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
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def load_flow(path: str | os.PathLike[str], media_dir: str | os.PathLike[str] | None = None) -> Flow:
    """Load and validate one flow file.

    Args:
        path: the YAML file.
        media_dir: where ``media`` file names are looked up; defaults to the
            ``media`` folder beside the file.

    Raises:
        FlowLoadError: with every finding, when the file has any error.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise FlowLoadError([Finding(Pos(str(file), 1, 1), "error", f"cannot read file: {exc}")]) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the bad byte decoded, so its line and column can be counted.
        before = data[: exc.start].decode("utf-8")
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        msg = f"file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        raise FlowLoadError([Finding(Pos(str(file), line, col), "error", msg)]) from exc
    media = Path(media_dir) if media_dir is not None else file.parent / "media"
    return load_flow_text(text, str(file), str(media), version=hashlib.sha256(data).hexdigest()[:12])


def load_flow_text(text: str, file: str, media_dir: str, version: str = "") -> Flow:
    """Validate flow text as if read from ``file``; see ``load_flow``."""
    node, findings = compose(text, file)
    if node is None:
        if not findings:
            findings = [Finding(Pos(file, 1, 1), "error", "the file is empty; expected a flow")]
        raise FlowLoadError(findings)
    builder = _Builder(Reader(file), media_dir)
    flow = builder.build(node, default_name=Path(file).stem, version=version or _digest(text))
    if flow is not None:
        flow = replace(flow, source=text)
    errors = [f for f in builder.reader.findings if f.severity == "error"]
    if errors or flow is None:
        raise FlowLoadError(builder.reader.findings)
    # Whole-flow checks (compliance words, segment budgets, MMS limits) need the
    # typed objects, so they run only once the structure is sound.
    checked = check_flow(flow)
    if any(f.severity == "error" for f in checked):
        raise FlowLoadError([*builder.reader.findings, *checked])
    return flow


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class _Builder:
    def __init__(self, reader: Reader, media_dir: str) -> None:
        self.reader = reader
        self.media_dir = media_dir
        self.gotos: list[tuple[str, Node]] = []  # every ``go`` to check once states are known

    def build(self, node: Node, default_name: str, version: str) -> Flow | None:
        r = self.reader
        top = r.mapping(node, "the flow file", TOP_KEYS)
        if top is None:
            return None
        name = default_name
        if "flow" in top:
            name = self._name(top["flow"][1], "flow name") or default_name
        default = bool("default" in top and r.boolean(top["default"][1], "'default'"))
        numbers = self._numbers(top["numbers"][1]) if "numbers" in top else ()
        settings = self._settings(top["settings"][1]) if "settings" in top else Settings()
        global_routes = self._global(top["global"][1]) if "global" in top else ()
        states: dict[str, State] = {}
        if "states" not in top:
            r.error(node, "the flow has no 'states'; expected at least the start state")
        else:
            states = self._states(top["states"][1])
        faqs = self._faqs(top["faqs"][1]) if "faqs" in top else ()
        compliance = self._compliance(top["compliance"][1]) if "compliance" in top else Compliance()
        lengths = self._variables(top["variables"][1]) if "variables" in top else {}
        start = ""
        if "start" not in top:
            r.error(node, "the flow has no 'start'; expected the name of the first state")
        else:
            start_node = top["start"][1]
            start = r.text(start_node, "'start'") or ""
            if start and start not in states:
                hint = did_you_mean(start, states)
                r.error(start_node, f"start state '{start}' does not exist{hint}")
        for target, go_node in self.gotos:
            if target not in states:
                r.error(go_node, f"state '{target}' does not exist{did_you_mean(target, states)}")
        return Flow(
            name=name,
            path=r.file,
            version=version,
            pos=r.pos(node),
            start=start,
            states=states,
            settings=settings,
            default=default,
            numbers=numbers,
            global_routes=global_routes,
            faqs=faqs,
            media_dir=self.media_dir,
            compliance=compliance,
            variable_lengths=lengths,
        )

    def _name(self, node: Node, what: str) -> str | None:
        value = self.reader.text(node, what)
        if value is not None and not _NAME.match(value):
            self.reader.error(node, f"{what} '{value}' should use only letters, digits, '_' and '-'")
            return None
        return value

    def _numbers(self, node: Node) -> tuple[str, ...]:
        out: list[str] = []
        seen: dict[str, Pos] = {}
        for value, item in self.reader.texts(node, "'numbers'") or []:
            number = value.strip().replace(" ", "").replace("-", "")
            if not _E164.match(number):
                self.reader.error(item, f"'{value}' is not a phone number in E.164 form like +15555550100")
            elif number in seen:
                self.reader.error(item, f"number {number} is listed twice (first at line {seen[number].line})")
            else:
                seen[number] = self.reader.pos(item)
                out.append(number)
        return tuple(out)

    def _settings(self, node: Node) -> Settings:
        r = self.reader
        entries = r.mapping(node, "'settings'", SETTING_KEYS) or {}
        values: dict[str, object] = {"positions": {key: r.pos(value) for key, (_, value) in entries.items()}}
        for key, (_, value) in entries.items():
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
                parsed = _trim(r.text(value, f"'{key}'")) or None
            if parsed is not None:
                values[key] = parsed
                if key == "lost_state":
                    self.gotos.append((str(parsed), value))
        return Settings(**values)  # type: ignore[arg-type]

    def _compliance(self, node: Node) -> Compliance:
        r = self.reader
        entries = r.mapping(node, "'compliance'", COMPLIANCE_KEYS) or {}
        lists: dict[str, tuple[str, ...]] = {}
        for key, (_, value) in entries.items():
            lists[key] = tuple(v for v, _ in r.texts(value, f"'{key}'") or [])
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
        return compliance

    def _variables(self, node: Node) -> dict[str, int]:
        r = self.reader
        out: dict[str, int] = {}
        for name, (key_node, value) in (r.mapping(node, "'variables'") or {}).items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                r.error(key_node, f"variable name '{name}' should use only letters, digits and '_'")
                continue
            length = r.integer(value, f"the longest value of '{name}'", 1, 1600)
            if length is not None:
                out[name] = length
        return out

    def _global(self, node: Node) -> tuple[Route, ...]:
        routes: list[Route] = []
        for index, item in enumerate(self.reader.sequence(node, "'global'") or [], start=1):
            needs = "a global route needs 'keywords' (e.g. MENU)"
            route = self._route(item, f"global/{index}", "a global route", ROUTE_KEYS, needs)
            if route is None:
                continue
            if route.pattern is not None or route.option:
                self.reader.error(item, "global routes match 'keywords' only, not 'pattern' or 'option'")
            routes.append(route)
        return tuple(routes)

    def _states(self, node: Node) -> dict[str, State]:
        r = self.reader
        states: dict[str, State] = {}
        for name, (key_node, value) in (r.mapping(node, "'states'") or {}).items():
            if not _NAME.match(name):
                r.error(key_node, f"state name '{name}' should use only letters, digits, '_' and '-'")
                continue
            entries = r.mapping(value, f"state '{name}'", STATE_KEYS)
            if entries is None:
                continue
            say = _trim(r.text(entries["say"][1], f"'say' of state '{name}'")) if "say" in entries else ""
            media = self._media(entries["media"][1]) if "media" in entries else ()
            choices: list[Route] = []
            if "choices" in entries:
                items = r.sequence(entries["choices"][1], f"'choices' of state '{name}'") or []
                for index, item in enumerate(items, start=1):
                    needs = "a choice needs 'keywords', 'option', 'pattern' or 'sent' to match"
                    route = self._route(item, f"{name}/choice {index}", "a choice", ROUTE_KEYS, needs)
                    if route is not None:
                        choices.append(route)
            otherwise = None
            if "otherwise" in entries:
                otherwise = self._route(
                    entries["otherwise"][1], f"{name}/otherwise", "'otherwise'", OTHERWISE_KEYS
                )
            final = bool("final" in entries and r.boolean(entries["final"][1], "'final'"))
            states[name] = State(
                name=name,
                pos=r.pos(key_node),
                say=say,
                media=media,
                choices=tuple(choices),
                otherwise=otherwise,
                final=final,
            )
        return states

    def _route(
        self, node: Node, route_id: str, what: str, allowed: tuple[str, ...], needs: str = ""
    ) -> Route | None:
        """One route; ``needs`` is the error when it has nothing to match (choices, globals).

        "Needs something to match" and "does nothing" are only reported when the
        route's own keys and values had no error: a misspelt key or a bad pattern is
        already reported where it is, and "a choice needs 'pattern'" next to a
        pattern would send the editor looking for the wrong mistake.
        """
        r = self.reader
        before = len(r.findings)
        entries = r.mapping(node, what, allowed)
        if entries is None:
            return None
        unknown_keys = len(r.findings) > before
        before = len(r.findings)
        keywords: list[str] = []
        keys: set[str] = set()
        keyword_items = r.texts(entries["keywords"][1], "'keywords'") if "keywords" in entries else None
        for value, item in keyword_items or []:
            key = squeeze(normalize(value))
            if not key:
                r.error(item, f"keyword '{value}' has no letters or digits; customers cannot type it")
                continue
            keywords.append(value)
            keys.add(key)
        option = r.text(entries["option"][1], "'option'") or "" if "option" in entries else ""
        pattern = None
        if "pattern" in entries:
            pattern = self._pattern(entries["pattern"][1])
        sent = ""
        if "sent" in entries:
            sent_value = r.text(entries["sent"][1], "'sent'")
            if sent_value is not None and sent_value.strip().lower() not in SENT_KINDS:
                kinds = ", ".join(SENT_KINDS)
                r.error(entries["sent"][1], f"'sent' should be one of {kinds}, got '{sent_value}'")
            elif sent_value is not None:
                sent = sent_value.strip().lower()
        if needs and not (keys or option or pattern or sent) and not unknown_keys and len(r.findings) == before:
            r.error(node, needs)
        before = len(r.findings)
        go = None
        if "go" in entries:
            go = r.text(entries["go"][1], "'go'")
            if go is not None:
                self.gotos.append((go, entries["go"][1]))
        say = _trim(r.text(entries["say"][1], "'say'")) if "say" in entries else ""
        media = self._media(entries["media"][1]) if "media" in entries else ()
        subscribe = self._name(entries["subscribe"][1], "audience name") or "" if "subscribe" in entries else ""
        if not (go or say or media or subscribe) and not unknown_keys and len(r.findings) == before:
            r.error(node, f"{what} does nothing; expected 'go', 'say' or 'media'")
        return Route(
            route_id=route_id,
            pos=r.pos(node),
            keywords=tuple(keywords),
            keys=frozenset(keys),
            option=option,
            option_norm=normalize(option),
            pattern=pattern,
            go=go,
            say=say,
            media=media,
            sent=sent,
            subscribe=subscribe,
        )

    def _pattern(self, node: Node) -> re.Pattern[str] | None:
        source = self.reader.text(node, "'pattern'")
        if source is None:
            return None
        try:
            # Case-insensitive by default: customers do not care about case.
            return re.compile(source, re.IGNORECASE)
        except re.error as exc:
            self.reader.error(node, f"pattern is not a valid regular expression: {exc.msg} (at {exc.pos})")
            return None

    def _media(self, node: Node) -> tuple[str, ...]:
        out: list[str] = []
        root = Path(self.media_dir).resolve()
        for value, item in self.reader.texts(node, "'media'") or []:
            ref = value.strip()
            if ref.startswith(("http://", "https://")):
                if not ref.startswith("https://"):
                    self.reader.error(item, f"media URL '{ref}' must use https://")
                    continue
                out.append(ref)
                continue
            target = (root / ref).resolve()
            if ref.startswith("/") or not target.is_relative_to(root):
                self.reader.error(item, f"media '{ref}' must be a file inside the media folder {root}")
            elif not target.is_file():
                hint = did_you_mean(ref, _media_files(root))
                self.reader.error(item, f"media file '{ref}' not found in {root}{hint}")
            else:
                out.append(target.relative_to(root).as_posix())
        return tuple(out)

    def _faqs(self, node: Node) -> tuple[Faq, ...]:
        r = self.reader
        faqs: list[Faq] = []
        seen: dict[str, Pos] = {}
        for index, item in enumerate(r.sequence(node, "'faqs'") or [], start=1):
            entries = r.mapping(item, "an FAQ", FAQ_KEYS)
            if entries is None:
                continue
            faq_id = f"faq-{index}"
            if "id" in entries:
                faq_id = self._name(entries["id"][1], "FAQ id") or faq_id
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
            if question is None and "question" not in entries:
                r.error(item, "an FAQ needs a 'question'")
            if answer is None and "answer" not in entries:
                r.error(item, "an FAQ needs an 'answer'")
            also = [v for v, _ in r.texts(entries["also"][1], "'also'") or []] if "also" in entries else []
            media = self._media(entries["media"][1]) if "media" in entries else ()
            if question is None or answer is None:
                continue
            faqs.append(Faq(faq_id, r.pos(item), question.strip(), (question.strip(), *also), _trim(answer), media))
        return tuple(faqs)


def _trim(text: str | None) -> str:
    """Reply text without the trailing newline of a ``|`` block: every character is paid for."""
    return (text or "").strip()


def _media_files(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]


