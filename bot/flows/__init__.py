"""Flow files: YAML → validated, typed, positioned objects."""

from bot.flows.errors import Finding, FlowLoadError, Pos
from bot.flows.loader import load_flow, load_flow_text
from bot.flows.model import Faq, Flow, Route, Settings, State
from bot.flows.registry import FlowSet, flow_files, load_flows

__all__ = [
    "Faq",
    "Finding",
    "Flow",
    "FlowLoadError",
    "FlowSet",
    "Pos",
    "Route",
    "Settings",
    "State",
    "flow_files",
    "load_flow",
    "load_flow_text",
    "load_flows",
]
