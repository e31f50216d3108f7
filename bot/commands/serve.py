"""``textdesk serve``: run the webhook server (``python run.py`` is the same).

Exit codes: 0 after a clean shutdown, 1 when the flows have errors or the
server cannot start (port taken, database unusable), 2 for bad configuration.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from bot import __version__, gcpolicy
from bot.config import Config, ConfigError, add_serve_arguments, config_from_args
from bot.flows import FlowLoadError, FlowSet, load_flows
from bot.flows.lint import lint_flow_set
from bot.logjson import JsonFormatter
from bot.logtext import TextFormatter

__all__ = ["access_log", "configure_logging", "load_or_report", "register", "run"]

log = logging.getLogger("textdesk")


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("serve", help="run the webhook server")
    add_serve_arguments(parser, env)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"textdesk: error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config)
    flows = load_or_report(config)
    if flows is None:
        return 1
    from aiohttp import web

    from bot.store import SQLiteStore, StoreError
    from bot.web.app import configured_carriers, create_app

    try:
        carriers = configured_carriers(config)
    except ValueError as exc:  # a carrier's secret is set but its other settings are missing or wrong
        print(f"textdesk: error: {exc}", file=sys.stderr)
        return 2
    if not carriers:
        # Every webhook path would answer 404: a server that can never answer a
        # customer is a configuration mistake, said now rather than found later.
        print("textdesk: error: no carrier is set up, so no webhook could be verified. Set a carrier's "
              "webhook secret (TWILIO_AUTH_TOKEN for Twilio; the README's carrier table lists the "
              "others), or pass --insecure-dev for local development without signature checks.",
              file=sys.stderr)
        return 2
    if config.insecure_dev and not config.twilio_auth_token:
        log.warning(
            "INSECURE DEVELOPMENT MODE: TWILIO_AUTH_TOKEN is not set, webhook signatures are NOT checked. "
            "Never expose this server to the internet like this."
        )
    app = create_app(config, flows, SQLiteStore(config.db_path), carriers=carriers)
    names = ", ".join(f.name for f in flows)
    log.info("textdesk %s: flows [%s] from %s, database %s", __version__, names, config.flows_dir, config.db_path)
    gcpolicy.freeze()  # startup objects out of the collector's sight (bot/gcpolicy.py)
    try:
        web.run_app(app, host=config.host, port=config.port, print=_log_lines,
                    access_log=access_log(config))
    except socket.gaierror as exc:  # a subclass of OSError: the one that names no address itself
        print(f"textdesk: error: --host/TEXTDESK_HOST should be an address of this machine "
              f"(e.g. 127.0.0.1 or 0.0.0.0), cannot resolve '{config.host}': {exc.strerror}", file=sys.stderr)
        return 2
    except (OSError, StoreError) as exc:
        # The port is taken, or the database cannot be opened (not SQLite, a
        # newer schema, no permission): run_app has already closed what it
        # opened, so only the reason is left to say.
        print(f"textdesk: error: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


def configure_logging(config: Config, stream: TextIO | None = None) -> None:
    """The server's logging: one handler on ``stream`` (stderr), text or JSON lines."""
    handler = _LineHandler(stream)
    if config.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    logging.basicConfig(level=config.log_level, handlers=[handler])
    # transitions logs every callback at INFO: noise (our own line per message
    # says what happened) and a measurable cost on the hot path.
    logging.getLogger("transitions").setLevel(max(logging.WARNING, logging.getLevelName(config.log_level)))
    # Every handled message logs a line, so each record's cost is on the hot
    # path. Neither format prints the caller's file, line or function, nor the
    # thread or process: skip collecting them (the logging HOWTO's
    # "Optimization" section; about a third of a record's cost, measured).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


class _LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """``logging.StreamHandler`` writing and flushing each line under the one lock ``handle`` holds.

    Its ``emit`` flushes through ``flush()``, which takes the handler's lock
    again and checks the stream for a ``flush`` on every line, every message
    paying for it. Every line is still written and flushed before ``emit``
    returns.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self.stream
            stream.write(self.format(record) + self.terminator)
            stream.flush()
        except RecursionError:  # as StreamHandler: not a logging error to report
            raise
        except Exception:
            self.handleError(record)


def access_log(config: Config) -> logging.Logger | None:
    """aiohttp's access log (a line per HTTP request), only when asked for.

    Off by default: every handled message already gets its own line
    (``textdesk.conversation``) and every refusal one (``textdesk.web``), so an
    access line doubled the log volume and its cost per webhook.
    """
    return logging.getLogger("aiohttp.access") if config.access_log else None


def load_or_report(config: Config) -> FlowSet | None:
    """Load the flows, or print every finding (file:line:col) and return ``None``.

    The findings are exactly ``textdesk lint``'s: the server refuses to start
    on anything lint calls an error, and prints the warnings.
    """
    findings = lint_flow_set(config.flows_dir)
    for finding in findings:
        print(finding, file=sys.stderr)
    errors = sum(1 for f in findings if f.severity == "error")
    if errors:
        print(f"textdesk: refusing to start: {errors} error(s) in the flows", file=sys.stderr)
        return None
    try:
        return load_flows(config.flows_dir)
    except FlowLoadError as exc:  # pragma: no cover - lint reported these already
        print(exc, file=sys.stderr)
        return None


def _log_lines(text: str) -> None:
    # aiohttp's start-up banner is two lines; logged as one, the text log would
    # show its line break escaped (bot/logtext.py).
    for line in text.splitlines():
        log.info("%s", line)
