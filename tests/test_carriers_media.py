"""Which carriers' replies may be prepared as MMS: those whose reply path attaches media.

Sinch's and Vonage's SMS APIs and Plivo XML write media into the text as links
after the reply was prepared. Prepared as MMS, a reply at its segment budget
then goes over it by the links' length; prepared as for a phone without MMS,
the links are counted. Checked on the app as ``create_app`` builds it.
"""

from __future__ import annotations

from pathlib import Path

from bot.carriers.plivo import PlivoCarrier
from bot.clock import VirtualClock
from bot.config import Config
from bot.flows import load_flows
from bot.flows.model import Settings
from bot.replies import prepare
from bot.sms import analyze
from bot.store import SQLiteStore
from bot.types import Reply
from bot.web.app import create_app
from bot.web.keys import SERVICE
from tests.conftest import FLOWS
from tests.harness_carriers import ENV, adapters

US = "+15550001234"


def test_media_go_as_mms_only_where_the_carrier_can_attach_them(tmp_path: Path) -> None:
    carriers = {adapter.name: adapter.carrier for adapter in adapters()}
    assert set(carriers) == {"twilio", "vonage", "vonage-sms", "plivo", "telnyx", "bandwidth", "sinch"}
    config = Config(flows_dir=FLOWS, db_path=tmp_path / "t.db", twilio_auth_token=ENV["TWILIO_AUTH_TOKEN"])
    app = create_app(config, load_flows(FLOWS), SQLiteStore(tmp_path / "t.db"), VirtualClock(), carriers)
    mms = app[SERVICE].mms
    assert {name: mms(name, US) for name in carriers} == {
        "twilio": True, "vonage": True, "telnyx": True, "bandwidth": True,
        "vonage-sms": False, "sinch": False, "plivo": False,  # Plivo XML: links in the text
    }
    assert not mms("twilio", "+445550001234")  # the number's own rule still applies
    rest = PlivoCarrier.from_env({**ENV, "TEXTDESK_PLIVO_REPLIES": "rest"})
    assert rest is not None and rest.carries_media


def test_a_reply_at_its_budget_stays_within_it_where_media_become_links() -> None:
    # The helper's case: 150 characters and a picture, max_segments 1, on Sinch.
    settings = Settings(max_segments=1)
    prepared = prepare([Reply("x" * 150, ("a.png",))], settings, False, "https://sms.example.com/media")
    assert all(analyze(reply.text).segments <= 1 for reply in prepared)
    assert any("https://sms.example.com/media/a.png" in reply.text for reply in prepared)
