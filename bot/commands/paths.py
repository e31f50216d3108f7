"""The paths commands take, checked before anything reads them.

To ``pathlib`` an empty value is the current folder, so ``--flows ""``, a
``TEXTDESK_FLOWS=`` left blank or the ``"$DIR"`` of an unset variable would
quietly lint, draw, test or export whatever YAML lies there. Each check here
raises ``PathError`` with one line naming the argument, what it should be and
what it got; the command prints it and exits 2, like argparse.
"""

from __future__ import annotations

import stat
from pathlib import Path

__all__ = ["FLOWS", "PathError", "flows_folder", "given_file", "given_path"]

# Where --flows can come from; serve's own wording (bot.config), so one
# message reads the same from every command.
FLOWS = "--flows/TEXTDESK_FLOWS"


class PathError(ValueError):
    """A path argument that cannot be what the command needs."""


def flows_folder(value: str) -> Path:
    """The folder of flow files ``--flows`` (or ``TEXTDESK_FLOWS``) names; that it exists is the caller's to say."""
    if not value.strip():
        raise PathError(f"{FLOWS} should be the folder of flow files, got '{value}'")
    path = Path(value)
    if path.is_file():
        raise PathError(f"{FLOWS} should be the folder of flow files, but '{value}' is a file")
    return path


def given_path(value: str, what: str) -> Path:
    """A positional ``PATH`` (a file or folder, ``what`` says of what); its existence is the caller's to check."""
    if not value.strip():
        raise PathError(f"PATH should be {what}, got '{value}'")
    path = Path(value)
    special = _special(path)
    if special:
        raise PathError(f"PATH should be {what}, but '{value}' is {special}")
    return path


def given_file(value: str, flag: str, what: str) -> Path:
    """A file an argument names (``what``: "a flow file"), not a folder; that it exists is the caller's to say."""
    if not value.strip():
        raise PathError(f"{flag} should be the path of {what}, got '{value}'")
    path = Path(value)
    if path.is_dir():
        raise PathError(f"{flag} should be the path of {what}, but '{value}' is a folder")
    special = _special(path)
    if special:
        raise PathError(f"{flag} should be the path of {what}, but '{value}' is {special}")
    return path


def _special(path: Path) -> str:
    """What ``path`` is when it exists but is neither a file nor a folder ("" otherwise).

    Opening a named pipe waits for a writer, so a stray one (or a typo that
    hits one) hung the command without a word; a device reads as nothing or
    forever. Flow files and transcripts are read more than once and need the
    folder beside them (media), which a pipe has not either.
    """
    try:
        mode = path.stat().st_mode  # stat() never opens: it cannot block on a pipe
    except (OSError, ValueError):  # missing (the caller says so), or a name the system refuses
        return ""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"
