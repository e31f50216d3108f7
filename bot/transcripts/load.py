"""Read transcript files into ``Transcript`` objects, or report every problem with its position.

Transcripts are composed, never constructed, with the flow loader's own
``Reader`` (bot.flows.yamlnodes): ``text: 1`` and ``text: yes`` stay the
texts a customer would type, and every value keeps its file:line:col. The
file is read whole before anything runs, so one run shows every mistake.

Checks against the flows (does ``state: hours`` exist? does ``faq: parking``?)
are a second pass, ``check_transcript``, because they need the loaded flows;
a typo in a state name then reads as a mistake in the transcript, with a
suggestion, rather than as a failing conversation.
"""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from yaml.nodes import Node, ScalarNode

from bot.flows import Finding, FlowSet, Pos
from bot.flows.errors import did_you_mean
from bot.flows.yamlnodes import Reader, compose
from bot.transcripts.model import Case, Start, Step, Transcript
from bot.types import InboundMedia

__all__ = [
    "TranscriptError",
    "check_transcript",
    "load_transcript",
    "load_transcript_text",
    "parse_transcript",
    "parse_transcript_text",
    "transcript_files",
]

TOP_KEYS = ("flow", "from", "tests")
CASE_KEYS = ("name", "start", "steps")
START_KEYS = ("state", "vars")
SEND_KEYS = ("text", "media", "wait")
CHECK_KEYS = (
    "reply",
    "contains",
    "not_contains",
    "regex",
    "segments_at_most",
    "no_reply",
    "state",
    "vars",
    "faq",
)
STEP_KEYS = SEND_KEYS + CHECK_KEYS
# Checks on the reply itself; ``no_reply: true`` contradicts each of them.
REPLY_CHECKS = ("reply", "contains", "regex", "segments_at_most")

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_CONTENT_TYPE = re.compile(r"^(?:image|video|audio|application|text)/[\w.+-]+$", re.IGNORECASE)
# Words an editor may write instead of a content type.
_MEDIA_WORDS = {"photo": "image/jpeg", "image": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg"}
_EXTENSIONS = {"image/jpeg": ".jpg", "video/mp4": ".mp4", "audio/mpeg": ".mp3"}
# Where the customer's attachments pretend to live; never fetched.
INBOUND_MEDIA_BASE = "https://customer-media.invalid/"


class TranscriptError(Exception):
    """A transcript file has errors; ``findings`` has each with its position."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = sorted(findings)
        super().__init__("\n".join(str(f) for f in self.findings))


def transcript_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The transcript files directly in ``folder``, sorted."""
    root = Path(folder)
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_transcript(path: str | os.PathLike[str]) -> Transcript:
    """Load one transcript file.

    Raises:
        TranscriptError: with every finding, when the file has any error.
    """
    transcript, findings = parse_transcript(path)
    if transcript is None or findings:
        raise TranscriptError(findings)
    return transcript


def load_transcript_text(text: str, file: str) -> Transcript:
    """Read transcript text as if from ``file``; see ``load_transcript``."""
    transcript, findings = parse_transcript_text(text, file)
    if transcript is None or findings:
        raise TranscriptError(findings)
    return transcript


def parse_transcript(path: str | os.PathLike[str]) -> tuple[Transcript | None, list[Finding]]:
    """What could be read of a file, and its findings.

    With findings, the transcript (when there is one) holds only the parts
    read without error: enough to check its state and FAQ names against the
    flows too, so one run reports every kind of mistake.
    """
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, [Finding(Pos(file, 1, 1), "error", f"cannot read file: {exc}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        msg = f"file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        return None, [Finding(Pos(file, line, col), "error", msg)]
    return parse_transcript_text(text, file)


def parse_transcript_text(text: str, file: str) -> tuple[Transcript | None, list[Finding]]:
    """See ``parse_transcript``."""
    node, findings = compose(text, file)
    if node is None:
        return None, findings or [Finding(Pos(file, 1, 1), "error", "the file is empty; expected 'tests:'")]
    reader = Reader(file)
    transcript = _Builder(reader).build(node)
    return transcript, sorted(f for f in reader.findings if f.severity == "error")


def check_transcript(transcript: Transcript, flows: FlowSet) -> list[Finding]:
    """What in ``transcript`` names something ``flows`` does not have."""
    found: list[Finding] = []

    def error(pos: Pos, message: str) -> None:
        found.append(Finding(pos, "error", message))

    if transcript.flow is None:
        flow = flows.default
    elif transcript.flow in flows.flows:
        flow = flows.flows[transcript.flow]
        if not flow.numbers and flow is not flows.default:
            where = transcript.flow_pos or transcript.pos
            error(where, f"flow '{flow.name}' answers no number (no 'numbers:' and not the default flow)")
    else:
        hint = did_you_mean(transcript.flow, flows.flows)
        known = ", ".join(sorted(flows.flows))
        error(transcript.flow_pos or transcript.pos, f"no flow named '{transcript.flow}'{hint}; flows: {known}")
        return found
    faq_ids = [faq.faq_id for faq in flow.faqs]
    for case in transcript.cases:
        if case.start is not None and case.start.state not in flow.states:
            hint = did_you_mean(case.start.state, flow.states)
            error(case.start.pos, f"flow '{flow.name}' has no state '{case.start.state}'{hint}")
        for step in case.steps:
            if step.state is not None and step.state not in flow.states:
                hint = did_you_mean(step.state, flow.states)
                error(step.checks["state"], f"flow '{flow.name}' has no state '{step.state}'{hint}")
            if step.faq is not None and step.faq not in faq_ids:
                hint = did_you_mean(step.faq, faq_ids)
                error(step.checks["faq"], f"flow '{flow.name}' has no FAQ with id '{step.faq}'{hint}")
    return found


class _Builder:
    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def build(self, node: Node) -> Transcript | None:
        r = self.r
        top = r.mapping(node, "the transcript file", TOP_KEYS)
        if top is None:
            return None
        flow = flow_pos = customer = None
        if "flow" in top:
            flow = r.text(top["flow"][1], "'flow'")
            flow_pos = r.pos(top["flow"][1])
        if "from" in top:
            customer = self._number(top["from"][1])
        cases: list[Case] = []
        if "tests" not in top:
            r.error(node, "the file has no 'tests:'; expected a list of tests, each with a 'name' and 'steps'")
        else:
            seen: dict[str, Pos] = {}
            for item in r.sequence(top["tests"][1], "'tests'") or []:
                case = self._case(item)
                if case is None:
                    continue
                if case.name in seen:
                    r.error(item, f"two tests are named '{case.name}' (first at line {seen[case.name].line})")
                    continue
                seen[case.name] = case.pos
                cases.append(case)
        return Transcript(r.file, r.pos(node), tuple(cases), flow, flow_pos, customer)

    def _number(self, node: Node) -> str | None:
        value = self.r.text(node, "'from'")
        if value is None:
            return None
        number = value.strip().replace(" ", "").replace("-", "")
        if not _E164.match(number):
            self.r.error(node, f"'from' should be a phone number in E.164 form like +15550100001, got '{value}'")
            return None
        return number

    def _case(self, node: Node) -> Case | None:
        r = self.r
        entries = r.mapping(node, "a test", CASE_KEYS)
        if entries is None:
            return None
        name = r.text(entries["name"][1], "the test's 'name'") if "name" in entries else None
        if "name" not in entries:
            r.error(node, "a test needs a 'name' (what it checks, in a few words)")
        start = self._start(entries["start"][1]) if "start" in entries else None
        steps: list[Step] = []
        if "steps" not in entries:
            r.error(node, "a test needs 'steps': a list of texts the customer sends")
        else:
            items = r.sequence(entries["steps"][1], "'steps'")
            if items is not None and not items:
                r.error(entries["steps"][1], "'steps' is empty; expected at least one text")
            for item in items or []:
                step = self._step(item)
                if step is not None:
                    steps.append(step)
        if name is None:
            return None
        return Case(name.strip(), r.pos(node), tuple(steps), start)

    def _start(self, node: Node) -> Start | None:
        r = self.r
        entries = r.mapping(node, "'start'", START_KEYS)
        if entries is None:
            return None
        if "state" not in entries:
            r.error(node, "'start' needs a 'state' to begin the conversation in")
            return None
        state = r.text(entries["state"][1], "the start 'state'")
        variables: dict[str, str] = {}
        for key, value in self._variables(entries["vars"][1]).items() if "vars" in entries else ():
            if value is None:
                r.error(entries["vars"][1], f"start variable '{key}' has no value; leave it out instead")
            else:
                variables[key] = value
        if state is None:
            return None
        return Start(r.pos(entries["state"][1]), state.strip(), variables)

    def _variables(self, node: Node) -> dict[str, str | None]:
        r = self.r
        out: dict[str, str | None] = {}
        for name, (_, value) in (r.mapping(node, "'vars'") or {}).items():
            if isinstance(value, ScalarNode) and value.tag == "tag:yaml.org,2002:null" and value.style is None:
                out[name] = None  # ``order_number: ~``: must not be set
                continue
            text = r.text(value, f"variable '{name}'", allow_empty=True)
            if text is not None:
                out[name] = text
        return out

    def _step(self, node: Node) -> Step | None:
        r = self.r
        if isinstance(node, ScalarNode):  # ``- hi``: just send the text
            bare = r.text(node, "a step")
            return None if bare is None else Step(r.pos(node), text=bare)
        before = len(r.findings)  # a misspelt key must not also read as "a step needs 'text'"
        entries = r.mapping(node, "a step", STEP_KEYS)
        if entries is None:
            return None
        values: dict[str, object] = {}
        checks = {key: r.pos(value) for key, (_, value) in entries.items() if key in CHECK_KEYS}
        text: str | None = None
        if "text" in entries:
            text = r.text(entries["text"][1], "'text'", allow_empty=True)
        if "media" in entries:
            self._media(entries["media"][1], values, checks)
        wait = 0.0
        wait_written = ""
        if "wait" in entries:
            wait = r.duration(entries["wait"][1], "'wait'") or 0.0
            wait_written = str(getattr(entries["wait"][1], "value", "")).strip()
        for key, (_, value) in entries.items():
            if key in ("reply", "state", "faq"):
                parsed = r.text(value, f"'{key}'")
                if parsed is not None:
                    values[key] = parsed.strip() if key != "reply" else parsed
            elif key in ("contains", "not_contains"):
                values[key] = tuple(t for t, _ in r.texts(value, f"'{key}'") or [])
            elif key == "regex":
                values[key] = self._regexes(value)
            elif key == "segments_at_most":
                values[key] = r.integer(value, "'segments_at_most'", 1, 10)
            elif key == "no_reply":
                values[key] = r.boolean(value, "'no_reply'")
            elif key == "vars":
                values["variables"] = self._variables(value)
        if len(r.findings) > before:
            return None
        pos = r.pos(node)
        if text is None and values.get("media"):
            text = ""  # a photo without words
        if text is None and not wait:
            r.error(node, "a step needs 'text' (what the customer sends) or 'wait' (time passing)")
            return None
        if text is None and checks:
            first = min(checks, key=lambda k: checks[k])
            r.error(entries[first][0], f"'{first}' needs a 'text' in the same step: only a text gets a reply")
            return None
        if text is not None and not text.strip() and not values.get("media"):
            r.error(entries["text"][1], "'text' is empty and no 'media' is sent: the customer sends nothing")
            return None
        if values.get("no_reply") is True:
            clash = [k for k in REPLY_CHECKS if k in entries] + (["media"] if values.get("has_media") else [])
            if clash:
                r.error(entries[clash[0]][0], f"'{clash[0]}' checks a reply, but this step says 'no_reply: true'")
                return None
        return Step(pos=pos, text=text, wait=wait, wait_written=wait_written, checks=checks, **values)  # type: ignore[arg-type]

    def _media(self, node: Node, values: dict[str, object], checks: dict[str, Pos]) -> None:
        """``media: true|false`` checks the reply; a list (or one item) is what the customer sends."""
        r = self.r
        if isinstance(node, ScalarNode) and node.value.strip().lower() in ("true", "false"):
            values["has_media"] = node.value.strip().lower() == "true"
            checks["media"] = r.pos(node)
            return
        items: list[InboundMedia] = []
        for index, (value, item) in enumerate(r.texts(node, "'media'") or [], start=1):
            media = _inbound(value.strip(), index)
            if media is None:
                r.error(
                    item,
                    f"cannot tell what kind of attachment '{value}' is; write photo, video, audio, "
                    "a content type like image/jpeg, or a file name like damage.jpg "
                    "(or true/false to check whether the reply has media)",
                )
            else:
                items.append(media)
        values["media"] = tuple(items)

    def _regexes(self, node: Node) -> tuple[re.Pattern[str], ...]:
        out: list[re.Pattern[str]] = []
        for source, item in self.r.texts(node, "'regex'") or []:
            try:
                # Case-insensitive, as patterns in flows are.
                out.append(re.compile(source, re.IGNORECASE))
            except re.error as exc:
                self.r.error(item, f"'regex' is not a valid regular expression: {exc.msg} (at {exc.pos})")
        return tuple(out)


def _inbound(value: str, index: int) -> InboundMedia | None:
    """One attachment the customer sends: a word, a content type, a URL or a file name."""
    lowered = value.lower()
    if lowered in _MEDIA_WORDS:
        content_type = _MEDIA_WORDS[lowered]
        return InboundMedia(f"{INBOUND_MEDIA_BASE}{index}{_EXTENSIONS[content_type]}", content_type)
    if _CONTENT_TYPE.match(value):
        extension = mimetypes.guess_extension(lowered) or ""
        return InboundMedia(f"{INBOUND_MEDIA_BASE}{index}{extension}", lowered)
    guessed, _ = mimetypes.guess_type(value, strict=False)
    if guessed is None:
        return None
    url = value if "://" in value else INBOUND_MEDIA_BASE + value
    return InboundMedia(url, guessed)
