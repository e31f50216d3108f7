"""The ``Store`` interface names everything the application calls on a store.

A second backend (PostgreSQL) is written against ``Store`` alone: an operation
the server uses that the interface does not declare would be found missing only
when the server first called it (the API's bulk subscribe, the broadcast sweep).
"""

from __future__ import annotations

import inspect

from bot.store import SQLiteStore, Store


def _operations(cls: type) -> set[str]:
    return {name for name, value in inspect.getmembers(cls) if not name.startswith("_")
            and inspect.iscoroutinefunction(value)}


def test_every_operation_of_the_sqlite_store_is_declared_on_the_interface() -> None:
    assert _operations(SQLiteStore) - _operations(Store) == set()


def test_the_api_operations_must_be_provided_by_every_store() -> None:
    assert {"subscribe_many", "sweep_abandoned_broadcasts"} <= Store.__abstractmethods__
