"""``textdesk lint [PATH...] [--format text|json]``: check flow files before a deploy.

Output is one finding per line, ``file:line:col: error|warning: message``, the
form editors and CI logs already turn into links; ``--format json`` gives the
same findings as a list of objects for tools. Exit codes: 0 when there is no
error (warnings allowed), 1 when there is any error, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.commands.paths import PathError, flows_folder, given_path
from bot.config import ConfigError, database_path
from bot.flows import Flow, flow_files, load_flow
from bot.flows.checks import reply_costs
from bot.flows.drift import drift
from bot.flows.lint import lint_paths
from bot.store import SQLiteStore, StoreError

__all__ = ["register", "run"]


def register(commands: Any, env: Mapping[str, str]) -> None:
    default = env.get("TEXTDESK_FLOWS", "flows")
    parser: argparse.ArgumentParser = commands.add_parser(
        "lint",
        help="check flow files for errors and likely mistakes",
        description="Check flow files (or folders of them) for errors and likely mistakes.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"flow files or folders of flow files (default: {default} [TEXTDESK_FLOWS])",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument(
        "--costs",
        action="store_true",
        help="also list every reply's encoding and SMS segments, as sent (longest variables, smart encoding)",
    )
    parser.add_argument(
        "--against",
        metavar="DB",
        help="dry run of a deploy: count the live conversations in DB sitting in states this version "
        "removes or changes",
    )
    parser.set_defaults(handler=run, default_paths=[default])


def run(args: argparse.Namespace) -> int:
    try:
        # The default is TEXTDESK_FLOWS (or flows): named as such when it is blank.
        paths = [given_path(p, "a flow file or a folder of them") for p in args.paths] or [
            flows_folder(p) for p in args.default_paths
        ]
        # An empty --against once skipped the dry run and reported success.
        against = database_path(args.against, "--against") if args.against is not None else None
    except (PathError, ConfigError) as exc:
        print(f"textdesk lint: error: {exc}", file=sys.stderr)
        return 2
    for flag, given in (("--costs", args.costs), ("--against", against is not None)):
        if given and args.format == "json":
            # Their lines after the findings' array made the output invalid JSON for whatever read it.
            print(f"textdesk lint: error: {flag} prints text lines, which would make the --format json output "
                  "unreadable as JSON; run it without --format json", file=sys.stderr)
            return 2
    missing = [p for p in paths if not p.exists()]
    if missing:
        # A typo in a path must not read as "no findings": say so and stop.
        for path in missing:
            print(f"textdesk lint: error: no such file or folder: {path}", file=sys.stderr)
        return 2
    findings = lint_paths(paths)
    errors = sum(1 for f in findings if f.severity == "error")
    if args.format == "json":
        rows = [
            {"file": f.pos.file, "line": f.pos.line, "col": f.pos.col, "severity": f.severity, "message": f.message}
            for f in findings
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            print(finding)
        if findings:
            warnings = len(findings) - errors
            print(f"textdesk lint: {_count(errors, 'error')}, {_count(warnings, 'warning')}", file=sys.stderr)
    if args.costs and not errors:
        _print_costs(paths)
    if against is not None and not errors:
        return asyncio.run(_against(paths, against))
    return 1 if errors else 0


def _load_all(paths: list[Path]) -> list[Flow]:
    flows: list[Flow] = []
    for path in paths:
        files = flow_files(path) if path.is_dir() else [path]
        flows += [load_flow(file, path / "media" if path.is_dir() else None) for file in files]
    return flows


def _print_costs(paths: list[Path]) -> None:
    """One line per reply: where it is, what it costs, and why when it is UCS-2."""
    for flow in _load_all(paths):
        budget = flow.settings.segment_budget
        for cost in reply_costs(flow):
            why = f" because of {', '.join(repr(c) for c in cost.info.ucs2_chars[:8])}" if cost.info.ucs2_chars else ""
            parts = f" in {cost.parts} messages" if cost.parts > 1 else ""
            print(f"{cost.pos}: {cost.label}: {cost.segments} of {budget} segments{parts}, {cost.info.encoding}{why}")


async def _against(paths: list[Path], db: Path) -> int:
    """Print what deploying these flows would do to the conversations stored in ``db``."""
    if not db.is_file():
        print(f"textdesk lint: error: no such database: {db}", file=sys.stderr)
        return 2
    flows = _load_all(paths)
    store = SQLiteStore(db)
    try:
        await store.open()
        drifts = await drift(flows, store)
    except StoreError as exc:
        print(f"textdesk lint: error: {exc}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    if not drifts:
        print(f"{db}: no live conversation is in a state this version removes or changes")
    for item in drifts:
        what = {
            "removed": "which this version removes (they will get the 'lost_notice' and move on)",
            "changed": "which this version changes",
            "unknown": "which may have changed (their flow version was never recorded)",
        }[item.kind]
        print(f"{db}: {_count(item.conversations, 'conversation')} in {item.flow}/{item.state}, {what}")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
