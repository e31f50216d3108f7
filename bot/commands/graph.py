"""``textdesk graph [--flow NAME] [--format mermaid|dot] [--flows DIR]``: draw a flow.

The flows folder is loaded exactly as ``serve`` loads it, so the diagram shows
what would run. Exit codes: 0 with the diagram on stdout, 1 when the flows have
errors (printed as ``file:line:col`` findings), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from bot.commands.output import write_utf8
from bot.commands.paths import PathError, flows_folder
from bot.flows import FlowLoadError, load_flows
from bot.flows.errors import did_you_mean
from bot.flows.graph import mermaid_limits, render

__all__ = ["register", "run"]


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "graph",
        help="print a flow as a Mermaid or Graphviz diagram",
        description="Print a flow as a diagram: Mermaid (paste into Markdown) or Graphviz DOT.",
    )
    parser.add_argument("--flow", metavar="NAME", help="the flow to draw (default: the default flow)")
    parser.add_argument(
        "--format", choices=("mermaid", "dot"), default="mermaid", help="diagram language (default: mermaid)"
    )
    parser.add_argument(
        "--flows",
        metavar="DIR",
        default=env.get("TEXTDESK_FLOWS", "flows"),
        help="folder of flow files [TEXTDESK_FLOWS] (default: flows)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        folder = flows_folder(args.flows)
    except PathError as exc:
        print(f"textdesk graph: error: {exc}", file=sys.stderr)
        return 2
    if not folder.is_dir():
        print(f"textdesk graph: error: flows folder not found: {folder}", file=sys.stderr)
        return 2
    try:
        flows = load_flows(folder)
    except FlowLoadError as exc:
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        print("textdesk graph: the flows have errors; fix them first (see 'textdesk lint')", file=sys.stderr)
        return 1
    if args.flow is None:
        flow = flows.default
    elif args.flow in flows.flows:
        flow = flows.flows[args.flow]
    else:
        known = ", ".join(sorted(flows.flows))
        hint = did_you_mean(args.flow, flows.flows)
        print(f"textdesk graph: error: no flow named '{args.flow}'{hint}; flows: {known}", file=sys.stderr)
        return 2
    text = render(flow, args.format)
    write_utf8(text)
    # Still printed whole (a viewer may raise its limits), but said: otherwise
    # the first sign is an error box where the flow should be.
    for limit in mermaid_limits(flow, text) if args.format == "mermaid" else []:
        print(f"textdesk graph: warning: {limit}, so most viewers show an error instead: use --format dot for "
              "a flow this size", file=sys.stderr)
    return 0
