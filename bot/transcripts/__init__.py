"""Conversation tests next to the flows: transcripts in ``flows/tests/*.yaml``.

A transcript is what a customer texts and what textdesk must answer, run
through the very service, compliance layer and SQLite store the server uses,
on a virtual clock. The format is described in flows/tests/README.md.
"""

from bot.transcripts.coverage import FlowCoverage, Part, flow_coverage
from bot.transcripts.load import (
    TranscriptError,
    check_transcript,
    load_transcript,
    load_transcript_text,
    parse_transcript,
    parse_transcript_text,
    transcript_files,
)
from bot.transcripts.model import Case, Start, Step, Transcript
from bot.transcripts.report import format_coverage, format_failure, percent
from bot.transcripts.results import CaseResult, Mismatch, StepFailure, Touched
from bot.transcripts.run import Runner
from bot.transcripts.suite import SuiteResult, coverage_for, find_files, read_transcripts, run_suite

__all__ = [
    "Case",
    "CaseResult",
    "FlowCoverage",
    "Mismatch",
    "Part",
    "Runner",
    "Start",
    "Step",
    "StepFailure",
    "SuiteResult",
    "Touched",
    "Transcript",
    "TranscriptError",
    "check_transcript",
    "coverage_for",
    "find_files",
    "flow_coverage",
    "format_coverage",
    "format_failure",
    "load_transcript",
    "load_transcript_text",
    "parse_transcript",
    "parse_transcript_text",
    "percent",
    "read_transcripts",
    "run_suite",
    "transcript_files",
]
