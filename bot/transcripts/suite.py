"""A whole transcript run: find the files, read and check them, run every case.

The command (``textdesk test``) and the project's pytest suite both go
through here, so CI and an editor's terminal run transcripts the same way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.flows import Finding, FlowSet
from bot.flows.registry import is_litter
from bot.transcripts.coverage import FlowCoverage, flow_coverage
from bot.transcripts.load import check_transcript, parse_transcript, transcript_files
from bot.transcripts.model import Transcript
from bot.transcripts.results import CaseResult, Touched
from bot.transcripts.run import Runner, flow_of

__all__ = ["SuiteResult", "coverage_for", "find_files", "read_transcripts", "run_suite"]


_NO_TESTS = (
    "the file has no tests; write at least one under 'tests:', each with a 'name' and 'steps' (flows/tests/README.md)"
)


@dataclass(frozen=True, slots=True)
class SuiteResult:
    results: tuple[CaseResult, ...]
    coverage: tuple[FlowCoverage, ...]

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def find_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Transcript files named directly, or anywhere inside named folders; each once, in order."""
    out: list[Path] = []
    for path in map(Path, paths):
        for file in _inside(path) if path.is_dir() else [path]:
            if file not in out:
                out.append(file)
    return out


def _inside(folder: Path) -> list[Path]:
    """The transcripts in ``folder`` and its sub-folders, sorted by path.

    Sub-folders too: tests an editor sorted into ``tests/returns/`` were once
    skipped without a word, and CI passed on fewer tests. Hidden and editors'
    folders are skipped as their files are; symbolic links to folders are not
    followed (a link to a parent would never end).
    """
    found: list[Path] = []
    for root, folders, _ in os.walk(folder):
        folders[:] = [name for name in folders if not is_litter(name)]
        found += transcript_files(root)
    return sorted(found)


def read_transcripts(files: Sequence[Path], flows: FlowSet) -> tuple[list[Transcript], list[Finding]]:
    """Load and check every file; the findings of all of them, not just the first."""
    transcripts: list[Transcript] = []
    findings: list[Finding] = []
    for file in files:
        transcript, problems = parse_transcript(file)
        if transcript is not None:
            problems = [*problems, *check_transcript(transcript, flows)]
            if not transcript.cases and not problems:
                problems.append(Finding(transcript.pos, "error", _NO_TESTS))
        findings.extend(problems)
        if transcript is not None and not problems:
            transcripts.append(transcript)
    return transcripts, sorted(findings)


async def run_suite(
    flows: FlowSet, transcripts: Sequence[Transcript], every_flow: bool = False, workdir: str | Path | None = None
) -> SuiteResult:
    """Run every case of ``transcripts`` in one throw-away database.

    Coverage is reported for the flows the transcripts test, or for every
    flow when ``every_flow`` (a flow nobody tests then shows as 0%).
    """
    results: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="textdesk-test-", dir=workdir) as tmp:
        async with Runner(flows, Path(tmp) / "transcripts.db") as runner:
            for transcript in transcripts:
                for case in transcript.cases:
                    results.append(await runner.run_case(transcript, case))
    return SuiteResult(tuple(results), coverage_for(flows, transcripts, results, every_flow))


def coverage_for(
    flows: FlowSet, transcripts: Sequence[Transcript], results: Iterable[CaseResult], every_flow: bool = False
) -> tuple[FlowCoverage, ...]:
    tested = {flow_of(t, flows).name for t in transcripts}
    touched: dict[str, list[Touched]] = {}
    for result in results:
        touched.setdefault(result.flow, []).append(result.touched)
    return tuple(
        flow_coverage(flow, touched.get(flow.name, ()))
        for flow in flows
        if every_flow or flow.name in tested
    )
