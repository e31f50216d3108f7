"""``textdesk lint [PATH...] [--format text|json]``: check flow files before a deploy.

Output is one finding per line, ``file:line:col: error|warning: message``, the
form editors and CI logs already turn into links; ``--format json`` gives the
same findings as a list of objects for tools. Exit codes: 0 when there is no
error (warnings allowed), 1 when there is any error, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.flows.lint import lint_paths

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
    parser.set_defaults(handler=run, default_paths=[default])


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in (args.paths or args.default_paths)]
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
    return 1 if errors else 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
