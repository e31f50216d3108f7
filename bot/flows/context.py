"""One flow file being loaded, and the values several of its sections share.

The section readers (bot.flows.routes, bot.flows.sections) and the document
builder (bot.flows.loader) all record findings on one ``Reader`` and collect
every ``go`` target in one list: a target can only be checked once every
state is known, so the references wait for the document builder's second
pass. Names, media references and reply text are read the same way wherever
they appear, so their readers live here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import Node

from bot.flows.errors import did_you_mean
from bot.flows.yamlnodes import Reader
from bot.matching.normalize import normalize

__all__ = ["MAX_NAME", "NAME", "SOUND", "Flaws", "LoadContext", "name_problem", "trim"]

# The rule for every name a flow gives: the flow's, its states', audiences' and FAQ ids.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
MAX_NAME = 100  # as the API (bot.api.inputs.MAX_NAME)


# Groups named in a pattern, read from its text: for a pattern that does not compile.
_GROUP_NAME = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")


@dataclass(frozen=True, slots=True)
class Flaws:
    """Which parts of a flow file had errors, so the checks that read them can hold back.

    A file with errors is still built into a (partial) ``Flow`` and checked,
    so one run shows every independent mistake. But a check reading a broken
    part would report what the mistake caused, not a mistake of its own (a
    state whose only choice has a misspelt key is not a dead end): each check
    asks here whether its inputs are whole. ``Flaws()`` is a sound file.

    Attributes:
        sections: top-level keys with an error inside; ``settings.<key>`` for
            one setting, ``settings.*`` (or ``variables.*``) when the section
            itself is unreadable or has an unknown or duplicate key, which
            could be any of them; ``go`` when a ``go`` names no state.
        states: states with an error inside, or too broken to read.
        unknown_lengths: variables whose longest value is unknown: named in a
            pattern that does not compile, or declared with a bad length.
        groups: variables named by a pattern that does not compile: set once it does.
    """

    sections: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    unknown_lengths: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def setting(self, key: str) -> bool:
        """Whether the value of setting ``key`` may not be what the file meant."""
        return "settings.*" in self.sections or f"settings.{key}" in self.sections

    @property
    def routes(self) -> bool:
        """Whether some route, state or the start may be missing or point nowhere."""
        return bool(self.states or {"states", "global", "start", "go"} & self.sections)


SOUND = Flaws()  # a file without errors


def name_problem(value: str, what: str) -> str | None:
    """What is wrong with a flow, state or audience name (``what`` says which), or None."""
    if len(value) > MAX_NAME:
        return f"{what} of {len(value)} characters is too long: at most {MAX_NAME}"
    if not NAME.fullmatch(value):
        # repr: a line break in the name is shown, not printed as a second line.
        return f"{what} {value!r} should use only letters, digits, '_' and '-'"
    return None


class LoadContext:
    """The reader, media folder and pending ``go`` targets of one flow file."""

    def __init__(self, reader: Reader, media_dir: str) -> None:
        self.reader = reader
        self.media_dir = media_dir
        self.gotos: list[tuple[str, Node]] = []  # every ``go`` to check once states are known
        # States written in the file but too broken to read: already reported
        # where they are, so a ``go`` or ``start`` naming one is not "missing".
        self.broken_states: set[str] = set()
        # What ``Flaws`` is built from, recorded by the section readers.
        self.flawed_sections: set[str] = set()
        self.flawed_states: set[str] = set()
        self.unknown_lengths: set[str] = set()
        self.broken_groups: set[str] = set()

    def errors(self) -> int:
        """Errors recorded so far: a reader compares counts to know whether a part had any."""
        return sum(1 for f in self.reader.findings if f.severity == "error")

    def broken_pattern(self, source: str) -> None:
        """A pattern that cannot be used: the variables it names are set once it can."""
        names = _GROUP_NAME.findall(source)
        self.broken_groups.update(names)
        self.unknown_lengths.update(names)

    def flaws(self) -> Flaws:
        return Flaws(
            frozenset(self.flawed_sections),
            frozenset(self.flawed_states | self.broken_states),
            frozenset(self.unknown_lengths),
            frozenset(self.broken_groups),
        )

    def name(self, node: Node, what: str) -> str | None:
        value = self.reader.text(node, what)
        # fullmatch: "$" would let a trailing line break (a YAML block scalar) through.
        # The API takes names of at most MAX_NAME characters: a longer audience
        # could be joined by texting and never listed or broadcast to.
        if value is None:
            return None
        problem = name_problem(value, what)
        if problem is not None:
            self.reader.error(node, problem)
            return None
        return value

    def matchable(self, value: str, node: Node, what: str) -> bool:
        """Whether matching can ever see ``value``; a finding when it cannot.

        Matching (bot.matching.normalize) keeps Latin letters and digits only:
        a keyword or option in another alphabet, or only emoji, normalises to
        nothing and would load fine and never match.
        """
        if normalize(value):
            return True
        self.reader.error(
            node,
            f"{what} '{value}' has no letters or digits textdesk can match: it reads Latin letters "
            "(accented or not) and digits only, so no text can ever match it",
        )
        return False

    def media(self, node: Node) -> tuple[str, ...]:
        out: list[str] = []
        root = Path(self.media_dir).resolve()
        for value, item in self.reader.texts(node, "'media'") or []:
            ref = value.strip()
            if ref.startswith(("http://", "https://")):
                if not ref.startswith("https://"):
                    self.reader.error(item, f"media URL '{ref}' must use https://")
                    continue
                out.append(ref)
                continue
            # A missing file is just not found, but the file system refuses some
            # names outright: longer than its limit (OSError from is_file), or a
            # symlink loop (RuntimeError from resolve).
            try:
                target = (root / ref).resolve()
                inside = not ref.startswith("/") and target.is_relative_to(root)
                found, refused = inside and target.is_file(), ""
            except OSError as exc:
                inside, found, refused = not ref.startswith("/"), False, f" ({exc.strerror})"
            except RuntimeError:
                inside, found, refused = not ref.startswith("/"), False, " (a symlink loop)"
            if not inside:
                self.reader.error(item, f"media '{ref}' must be a file inside the media folder {root}")
                continue
            if not found:
                hint = did_you_mean(ref, _media_files(root))
                self.reader.error(item, f"media file '{ref}' not found in {root}{hint}{refused}")
            else:
                out.append(target.relative_to(root).as_posix())
        return tuple(out)


def trim(text: str | None) -> str:
    """Reply text without the trailing newline of a ``|`` block: every character is paid for."""
    return (text or "").strip()


def _media_files(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
