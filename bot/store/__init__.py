"""Conversation storage behind one interface."""

from bot.store.base import LoggedMessage, Store, StoreError
from bot.store.sqlite import SQLiteStore

__all__ = ["LoggedMessage", "SQLiteStore", "Store", "StoreError"]
