"""The flood gate never holds back STOP, HELP or START (README, "Compliance first")."""

from __future__ import annotations

from tests.conftest import AppFactory, Phone


async def test_stop_help_and_start_pass_a_closed_flood_gate(make_client: AppFactory) -> None:
    client = await make_client(flood_burst=2, flood_window=60.0)
    phone = Phone(client, "+15550005001")
    # Exactly the limit is answered; the next one in the window is not.
    assert (await phone.text("hi")).messages
    assert (await phone.text("1")).messages
    assert (await phone.text("menu")).messages == []
    assert (await phone.text("HELP")).body.startswith("Acme Outfitters support")
    assert "unsubscribed" in (await phone.text("STOP")).body
    assert "subscribed again" in (await phone.text("START")).body
    assert (await phone.text("menu")).messages == []  # the gate is still closed for the flow
