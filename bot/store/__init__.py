"""Conversation storage behind one interface."""

from bot.store.base import ConsentChange, ConsentEvent, LoggedMessage, ProcessedTurn, Store, StoreError
from bot.store.sqlite import SQLiteStore

__all__ = ["ConsentChange", "ConsentEvent", "LoggedMessage", "ProcessedTurn", "SQLiteStore", "Store", "StoreError"]
