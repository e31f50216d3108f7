"""Regular expressions written in flow files: compiled, or why they cannot be.

A choice's ``pattern`` and a flow's ``revocation_patterns`` are editors' text.
``re.compile`` refuses bad ones with more than ``re.error``: ``ValueError`` for
incompatible flags (``(?a)(?u)``), ``OverflowError`` for a repeat count past
sre's limit (``a{99999999999}``), ``RecursionError`` for groups nested a
thousand deep. Every one of them is the editor's mistake, so every one is a
message for a finding, never an exception out of the loader.
"""

from __future__ import annotations

import re

__all__ = ["compile_regex"]


def compile_regex(source: str, flags: int = 0) -> re.Pattern[str] | str:
    """``source`` compiled, or what is wrong with it (a message for a finding)."""
    try:
        return re.compile(source, flags)
    except re.error as exc:
        return f"{exc.msg} (at {exc.pos})" if exc.pos is not None else exc.msg
    except OverflowError:
        return "a repeat count like {n} is too large"
    except RecursionError:
        return "groups are nested too deeply"
    except ValueError as exc:
        return str(exc)
