"""The ``textdesk`` command: a thin dispatcher over ``bot.commands``.

Every bad argument ends with one clear line and exit code 2 (argparse's own
convention); a flow with errors ends with its file:line:col findings and 1;
Ctrl-C ends with 130 (128 + SIGINT, as shells report it) and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.commands.output import tolerate_encodings

__all__ = ["COMMANDS", "build_parser", "main"]

# Subcommand modules under bot.commands, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("serve", "chat", "test", "lint", "graph", "faq", "send", "broadcast", "subscribers")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="textdesk", description="An SMS/MMS support line driven by YAML flows.")
    parser.add_argument("--version", action="version", version=f"textdesk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"bot.commands.{name}").register(commands, os.environ)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt:
        # Ctrl-C outside a command's own handling (imports, reading a file, the
        # server's startup) is the operator's choice, not a crash.
        print("textdesk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``textdesk lint --costs | head -1``): what it
        # wanted was written. Point stdout at nothing so the interpreter's final
        # flush does not fail again, and exit as a piped command does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run(argv: Sequence[str] | None) -> int:
    tolerate_encodings()  # an emoji on a terminal that cannot show it is an escape, not a traceback
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # As argparse reports any other missing argument: usage and the reason
        # on stderr, so a script that gets exit 2 also gets why.
        parser.print_usage(sys.stderr)
        print(f"textdesk: error: name a command: {', '.join(COMMANDS)} ('textdesk --help' says what each does)",
              file=sys.stderr)
        return 2
    code: int = args.handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
