"""Read transcript files into ``Transcript`` objects, or report every problem with its position.

Transcripts are composed, never constructed, with the flow loader's own
``Reader`` (bot.flows.yamlnodes): ``text: 1`` and ``text: yes`` stay the
texts a customer would type, and every value keeps its file:line:col. The
file is read whole before anything runs, so one run shows every mistake.
The file's structure and its tests are read by bot.transcripts.cases, each
step by bot.transcripts.steps.

Checks against the flows (does ``state: hours`` exist? does ``faq: parking``?)
are a second pass, ``check_transcript``, because they need the loaded flows;
a typo in a state name then reads as a mistake in the transcript, with a
suggestion, rather than as a failing conversation.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.flows import Finding, FlowSet, Pos
from bot.flows.checks import variable_lengths
from bot.flows.errors import decode_utf8, did_you_mean
from bot.flows.registry import yaml_files
from bot.flows.yamlnodes import Reader, compose
from bot.transcripts.cases import read_transcript
from bot.transcripts.model import Transcript

__all__ = [
    "TranscriptError",
    "check_transcript",
    "load_transcript",
    "load_transcript_text",
    "parse_transcript",
    "parse_transcript_text",
    "transcript_files",
]


class TranscriptError(Exception):
    """A transcript file has errors; ``findings`` has each with its position."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = sorted(findings)
        super().__init__("\n".join(str(f) for f in self.findings))


def transcript_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The transcript files directly in ``folder``, sorted; hidden and editors' files skipped as for flows."""
    return yaml_files(folder)


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
    text = decode_utf8(data, file)
    if isinstance(text, Finding):
        return None, [text]
    return parse_transcript_text(text, file)


def parse_transcript_text(text: str, file: str) -> tuple[Transcript | None, list[Finding]]:
    """See ``parse_transcript``."""
    node, findings = compose(text, file)
    if node is None:
        return None, findings or [Finding(Pos(file, 1, 1), "error", "the file is empty; expected 'tests:'")]
    reader = Reader(file)
    transcript = read_transcript(reader, node)
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
    # What a run can set: patterns' groups (and declared variables), and the case's 'start'.
    # A check on any other name, "~" above all, could never fail.
    flow_variables = set(variable_lengths(flow))
    # Without a look-alike to suggest, say what there is to pick from.
    states = f"; its states: {', '.join(flow.states)}"
    faqs = f"; its FAQ ids: {', '.join(faq_ids)}" if faq_ids else ": it has no FAQs"
    for case in transcript.cases:
        if case.start is not None and case.start.state not in flow.states:
            hint = did_you_mean(case.start.state, flow.states) or states
            error(case.start.pos, f"flow '{flow.name}' has no state '{case.start.state}'{hint}")
        settable = flow_variables | set(case.start.variables if case.start is not None else ())
        for step in case.steps:
            for name in step.variables:
                if name not in settable:
                    hint = did_you_mean(name, settable)
                    error(step.checks["vars"], f"flow '{flow.name}' never sets a variable '{name}'{hint}: no pattern "
                          f"has a group (?P<{name}>...) and no 'start' of this test sets it")
            if step.state is not None and step.state not in flow.states:
                hint = did_you_mean(step.state, flow.states) or states
                error(step.checks["state"], f"flow '{flow.name}' has no state '{step.state}'{hint}")
            if step.faq is not None and step.faq not in faq_ids:
                hint = did_you_mean(step.faq, faq_ids) or faqs
                error(step.checks["faq"], f"flow '{flow.name}' has no FAQ with id '{step.faq}'{hint}")
    return found
