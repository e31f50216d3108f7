"""Every module's ``__all__`` is honest (as httpx's tests/test_exported_members.py keeps its own).

``__all__`` is how a module says what it offers; the package ``__init__`` files
re-export from it. A stale entry breaks ``import *`` and misleads readers, and
a public class or function missing from it is an API nobody declared.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import bot

MODULES = sorted(info.name for info in pkgutil.walk_packages(bot.__path__, "bot."))


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _defined_here(module: ModuleType) -> list[str]:
    """Public classes and functions whose home is this module (not imported into it)."""
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    )


def test_every_module_is_listed() -> None:
    assert len(MODULES) > 100  # walk_packages found the tree, not an empty or wrong path
    assert "bot.store.hops" in MODULES and "bot.carriers.twilio" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = _module(name)
    missing = [entry for entry in getattr(module, "__all__", ()) if not hasattr(module, entry)]
    assert not missing, f"{name}.__all__ lists names it does not have: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_public_definitions_are_exported(name: str) -> None:
    module = _module(name)
    defined = _defined_here(module)
    if not defined:
        return  # e.g. an empty package
    exported = set(getattr(module, "__all__", ()))
    unlisted = [entry for entry in defined if entry not in exported]
    assert not unlisted, f"{name} defines public names missing from its __all__: {unlisted}"
