"""``textdesk faq import|export``: a flow's FAQs to and from a spreadsheet (CSV).

Exit codes: 0 done (also when nothing changed), 1 the CSV or the flow has problems
(each printed as ``file:row: message``; nothing was written), 2 a bad argument,
such as a missing file or no way to tell which flow is meant.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.commands.output import write_utf8
from bot.commands.paths import PathError, flows_folder, given_file
from bot.flows import FlowLoadError, flow_files, load_flows
from bot.flows.faq_csv import FaqCsvError, export_csv, plan_import, read_csv, write_atomically
from bot.flows.loader import load_flow, load_flow_text
from bot.flows.model import Flow

__all__ = ["register"]


class _Usage(Exception):
    """A bad argument: one line, exit code 2."""


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "faq", help="import or export a flow's FAQs as CSV", description="A flow's FAQs to and from a CSV file."
    )
    actions = parser.add_subparsers(dest="faq_action", metavar="ACTION", required=True)

    flows_default = env.get("TEXTDESK_FLOWS", "flows")
    importer = actions.add_parser(
        "import",
        help="merge a CSV (id, question, alternates, answer, media) into a flow's faqs",
        description="Merge a CSV into the flow's 'faqs:' section. Rows update FAQs with the same id "
        "(or, without an id, the same question) and add the rest; FAQs the CSV does not list are "
        "kept unless --prune. Nothing is written when any row has a problem.",
    )
    importer.add_argument("csv_file", metavar="FILE.csv", help="UTF-8 CSV, e.g. Excel's 'CSV UTF-8'")
    importer.add_argument("--prune", action="store_true", help="remove FAQs the CSV does not list")
    importer.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    exporter = actions.add_parser("export", help="write a flow's FAQs as CSV (stdout by default)")
    exporter.add_argument("-o", "--output", metavar="FILE.csv", help="write here (UTF-8 with BOM, for Excel)")
    for sub in (importer, exporter):
        sub.add_argument("--flow", metavar="PATH", help="the flow file (default: the default flow in --flows)")
        sub.add_argument("--flows", default=flows_default, help="folder of flow files [TEXTDESK_FLOWS]")
    importer.set_defaults(handler=lambda args: _guard("import", _import, args))
    exporter.set_defaults(handler=lambda args: _guard("export", _export, args))


def _guard(action: str, run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run an action; every expected failure ends as its lines on stderr and an exit code."""
    try:
        code: int = run(args)
    except (_Usage, PathError) as exc:
        print(f"textdesk faq {action}: error: {exc}", file=sys.stderr)
        return 2
    except FlowLoadError as exc:
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        print(f"textdesk faq {action}: the flow has errors; fix them first. Nothing was written.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"textdesk faq {action}: error: {exc}", file=sys.stderr)
        return 1
    except FaqCsvError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"textdesk faq {action}: {count} problem{'' if count == 1 else 's'}; nothing was written.",
              file=sys.stderr)
        return 1
    return code


def _import(args: argparse.Namespace) -> int:
    path = _flow_path(args)
    csv_path = given_file(args.csv_file, "FILE.csv", "a CSV file")
    if not csv_path.is_file():
        raise _Usage(f"{csv_path}: no such file")
    rows = read_csv(csv_path.read_bytes(), str(csv_path))
    data, text, flow = _read_flow(path)
    plan = plan_import(text, flow, rows, str(csv_path), prune=args.prune)
    parts = [f"{len(plan.added)} added", f"{len(plan.updated)} updated", f"{len(plan.removed)} removed"]
    parts.append(f"{len(plan.unchanged)} unchanged")
    if plan.kept:
        parts.append(f"{len(plan.kept)} kept")
    print(f"{path}: {', '.join(parts)}")
    for label, ids in (("added", plan.added), ("updated", plan.updated), ("removed", plan.removed),
                       ("unchanged", plan.unchanged)):
        if ids:
            print(f"  {label}: {', '.join(ids)}")
    if plan.kept:
        print(f"  kept (not in {csv_path}; --prune removes them): {', '.join(plan.kept)}")
    if not plan.changed:
        print(f"nothing to write: {path} already matches {csv_path}")
        return 0
    if args.dry_run:
        print(f"dry run: {path} was not written")
        return 0
    new = plan.text.replace("\n", "\r\n") if b"\r\n" in data else plan.text
    if path.read_bytes() != data:  # someone saved the flow meanwhile: do not overwrite their edit
        print(f"textdesk faq import: {path} changed while importing; nothing was written. Run it again.",
              file=sys.stderr)
        return 1
    write_atomically(path, new.encode("utf-8"))
    print(f"wrote {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    path = _flow_path(args)
    _, text, flow = _read_flow(path)
    if args.output is None:
        write_utf8(export_csv(text, flow, lineterminator="\n"))
        return 0
    _check_output(args.output)
    # A BOM and CRLF: Excel then opens accented letters and emoji correctly.
    data = b"\xef\xbb\xbf" + export_csv(text, flow).encode("utf-8")
    if _is_stream(args.output):
        # A pipe (``-o >(...)``) or a device (/dev/stdout): written into, as any tool
        # does. The atomic write renamed a temp file over it: the reader got nothing,
        # and as root /dev/null itself would have become a regular file.
        with open(args.output, "wb") as out:
            out.write(data)
    else:
        write_atomically(args.output, data)
    print(f"wrote {len(flow.faqs)} FAQs to {args.output}", file=sys.stderr)
    return 0


def _check_output(value: str) -> None:
    """Refuse an output path the atomic write would fail on with its temp file's name."""
    path = Path(value)
    if not value.strip() or path.is_dir():
        raise _Usage(f"--output should name the CSV file to write, got '{value}'")
    if not path.parent.is_dir():
        raise _Usage(f"--output {value}: no folder '{path.parent}' to write it in")


def _is_stream(value: str) -> bool:
    """``value`` exists and is not a regular file (a named pipe, a device, a socket)."""
    try:
        return not stat.S_ISREG(os.stat(value).st_mode)
    except OSError:
        return False


def _flow_path(args: argparse.Namespace) -> Path:
    """``--flow``, else the only flow file in ``--flows``, else the one that says ``default: true``."""
    if args.flow is not None:  # an empty --flow is a mistake, not "the default flow"
        path = given_file(args.flow, "--flow", "a flow file")
        if not path.is_file():
            raise _Usage(f"{path}: no such flow file")
        return path
    folder = flows_folder(args.flows)
    if not folder.is_dir():
        raise _Usage(f"no flows folder '{folder}'; name the flow file with --flow")
    files = flow_files(folder)
    if len(files) == 1:
        return files[0]
    if not files:
        raise _Usage(f"no flow files (*.yaml) in '{folder}'; name the flow file with --flow")
    try:
        return Path(load_flows(folder).default.path)
    except FlowLoadError as exc:
        names = ", ".join(p.name for p in files)
        raise _Usage(f"cannot tell which of {names} is the default flow ({len(exc.findings)} "
                     "problem(s) loading them); name the flow file with --flow") from exc


def _read_flow(path: Path) -> tuple[bytes, str, Flow]:
    """The file's bytes, its text with ``\\n`` line breaks, and the flow it loads as."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        load_flow(path)  # raises FlowLoadError with the position of the bad byte
        raise
    return data, text, load_flow_text(text, str(path), str(path.parent / "media"))
