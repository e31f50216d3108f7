"""``textdesk test [PATH...] [--flows DIR] [--min-coverage N]``: run conversation transcripts.

Transcripts (flows/tests/*.yaml, described in flows/tests/README.md) are run
through the same service, compliance layer and SQLite store as the server, in
a throw-away database, on a virtual clock. Exit codes: 0 every test passed
(and coverage is at least ``--min-coverage``), 1 a test failed, coverage is
below the minimum or the flows have errors, 2 bad arguments or transcript
files with errors (printed as ``file:line:col: error: ...``; nothing is run).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from typing import Any

from bot.commands.paths import PathError, flows_folder, given_path
from bot.flows import FlowLoadError, load_flows
from bot.transcripts import find_files, format_coverage, format_failure, percent, read_transcripts, run_suite

__all__ = ["register", "run"]


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "test",
        help="run the conversation tests in flows/tests and report coverage",
        description="Run conversation transcripts (flows/tests/*.yaml) against the flows and report, per flow, "
        "the states entered, routes taken and FAQs answered.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="transcript files or folders of them (default: tests/ in --flows)"
    )
    parser.add_argument(
        "--flows",
        metavar="DIR",
        default=env.get("TEXTDESK_FLOWS", "flows"),
        help="folder of flow files [TEXTDESK_FLOWS] (default: flows)",
    )
    parser.add_argument(
        "--min-coverage",
        metavar="N",
        type=_percentage,
        default=None,
        help="fail when a flow's coverage (the lowest of states, routes and FAQs) is below N%%",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every test, not only failures")
    parser.set_defaults(handler=run)


def _percentage(value: str) -> float:
    try:
        number = float(value.strip().removesuffix("%"))
    except ValueError:
        number = -1.0
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"should be a percentage from 0 to 100, got '{value}'")
    return number


def run(args: argparse.Namespace) -> int:
    try:
        folder = flows_folder(args.flows)
        given = [given_path(p, "a transcript file or a folder of them") for p in args.paths]
    except PathError as exc:
        return _usage(str(exc))
    if not folder.is_dir():
        return _usage(f"flows folder not found: {folder}")
    paths = given or [folder / "tests"]
    missing = [p for p in paths if not p.exists()]
    for path in missing:
        _usage(f"no such file or folder: {path}")
    if missing:
        return 2
    files = find_files(paths)
    if not files:
        where = ", ".join(str(p) for p in paths)
        return _usage(f"no transcript files (*.yaml) in {where}; see flows/tests/README.md")
    try:
        flows = load_flows(folder)
    except FlowLoadError as exc:
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        print("textdesk test: the flows have errors; fix them first (see 'textdesk lint')", file=sys.stderr)
        return 1
    transcripts, findings = read_transcripts(files, flows)
    if findings:
        for finding in findings:
            print(finding, file=sys.stderr)
        errors = len(findings)
        print(f"textdesk test: {errors} error{'s' if errors != 1 else ''} in the transcripts; no test was run",
              file=sys.stderr)
        return 2
    suite = asyncio.run(run_suite(flows, transcripts, every_flow=not args.paths))
    for transcript in transcripts:
        results = [r for r in suite.results if r.transcript is transcript]
        failed = sum(1 for r in results if not r.passed)
        print(f"{transcript.path}: {len(results) - failed} passed" + (f", {failed} failed" if failed else ""))
        if args.verbose:
            for result in results:
                print(f"  {'ok  ' if result.passed else 'FAIL'} {result.case.name}")
    for result in suite.failed:
        print()
        print(format_failure(result))
    code = 1 if suite.failed else 0
    for coverage in suite.coverage:
        print()
        print(format_coverage(coverage))
    below = [c for c in suite.coverage if args.min_coverage is not None and c.overall < args.min_coverage]
    print()
    total, failed = len(suite.results), len(suite.failed)
    print(f"{total} test{'s' if total != 1 else ''}: {total - failed} passed, {failed} failed")
    for coverage in below:
        print(
            f"textdesk test: coverage of flow '{coverage.flow.name}' is {percent(coverage.overall)} "
            f"({coverage.weakest.name}), below --min-coverage {args.min_coverage:g}%",
            file=sys.stderr,
        )
        code = 1
    return code


def _usage(message: str) -> int:
    print(f"textdesk test: error: {message}", file=sys.stderr)
    return 2
