"""The pure conversation engine."""

from bot.engine.decision import Decision, Outcome
from bot.engine.engine import FlowEngine
from bot.engine.machine import Turn, build_machine
from bot.engine.templates import fill, placeholders

__all__ = ["Decision", "FlowEngine", "Outcome", "Turn", "build_machine", "fill", "placeholders"]
