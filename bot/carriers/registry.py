"""Which carriers are mounted: each one whose secret is configured.

A carrier without its secret is not mounted at all (its webhook path answers
404), so no unauthenticated endpoint exists by accident. Twilio alone may run
without its token, and only with the explicit ``--insecure-dev`` flag.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from bot.carriers.base import Carrier
from bot.carriers.twilio import TwilioCarrier

__all__ = ["OPTIONAL_CARRIERS", "Carriers", "carrier_names", "carriers_from_env"]


class Carriers(dict[str, Carrier]):
    """The mounted carriers by name (a named type so it can be an app key)."""

# module name -> class name; each class has ``from_env(env) -> instance | None``.
OPTIONAL_CARRIERS: dict[str, str] = {
    "bot.carriers.vonage": "VonageCarrier",
    "bot.carriers.vonage_sms": "VonageSmsCarrier",
    "bot.carriers.plivo": "PlivoCarrier",
    "bot.carriers.telnyx": "TelnyxCarrier",
    "bot.carriers.bandwidth": "BandwidthCarrier",
    "bot.carriers.sinch": "SinchCarrier",
}


def _optional_classes() -> list[Any]:
    """The optional adapters' classes whose modules are present."""
    classes = []
    for module_name, class_name in OPTIONAL_CARRIERS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        carrier_class = getattr(module, class_name, None)
        if carrier_class is not None:
            classes.append(carrier_class)
    return classes


def carrier_names() -> tuple[str, ...]:
    """Every carrier's channel name (its webhook path and per-carrier settings' suffix)."""
    return (TwilioCarrier.name, *(carrier_class.name for carrier_class in _optional_classes()))


def carriers_from_env(env: Mapping[str, str], insecure_dev: bool = False) -> Carriers:
    mounted = Carriers()
    twilio = TwilioCarrier.from_env(env, insecure_dev)
    if twilio is not None:
        mounted[twilio.name] = twilio
    for carrier_class in _optional_classes():
        carrier = carrier_class.from_env(env)
        if carrier is not None:
            mounted[carrier.name] = carrier
    return mounted
