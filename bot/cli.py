"""The ``textdesk`` command.

``textdesk serve`` (and ``python run.py``) start the webhook server. Every bad
argument or environment value ends with one clear line and exit code 2; a flow
with errors ends with its file:line:col findings and exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.config import Config, ConfigError, add_serve_arguments, config_from_args
from bot.flows import FlowLoadError, FlowSet, load_flows

__all__ = ["main"]

log = logging.getLogger("textdesk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textdesk", description="An SMS/MMS support line driven by YAML flows.")
    parser.add_argument("--version", action="version", version=f"textdesk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the webhook server")
    add_serve_arguments(serve, os.environ)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "serve":
        return serve(parser, args)
    return 2  # pragma: no cover - argparse rejects unknown commands


def serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"textdesk: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    flows = load_or_report(config)
    if flows is None:
        return 1
    from aiohttp import web

    from bot.store import SQLiteStore
    from bot.web.app import create_app

    if not config.twilio_auth_token:
        log.warning(
            "INSECURE DEVELOPMENT MODE: TWILIO_AUTH_TOKEN is not set, webhook signatures are NOT checked. "
            "Never expose this server to the internet like this."
        )
    app = create_app(config, flows, SQLiteStore(config.db_path))
    names = ", ".join(f.name for f in flows)
    log.info("textdesk %s: flows [%s] from %s, database %s", __version__, names, config.flows_dir, config.db_path)
    web.run_app(app, host=config.host, port=config.port, print=lambda line: log.info("%s", line))
    return 0


def load_or_report(config: Config) -> FlowSet | None:
    try:
        flows = load_flows(config.flows_dir)
    except FlowLoadError as exc:
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        errors = sum(1 for f in exc.findings if f.severity == "error")
        print(f"textdesk: refusing to start: {errors} error(s) in the flows", file=sys.stderr)
        return None
    for warning in flows.warnings:
        print(warning, file=sys.stderr)
    return flows


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
