"""``textdesk lint``: not written yet."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

__all__ = ["register"]


def register(commands: Any, env: Mapping[str, str]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("lint", help="(not available yet)")
    parser.set_defaults(handler=lambda args: 2)
