"""The per-request shortcuts of the webhook hot path (issue #8) keep behaviour and stay bounded.

Each shortcut here (a memo, a cache, a fast path) is checked two ways: it gives
what the plain computation gives, and it cannot grow without limit.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from urllib.parse import urlencode

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from multidict import CIMultiDict
from rapidfuzz import fuzz

from bot import observe as observe_module
from bot.carriers import twilio_signature
from bot.carriers.base import WebhookError, WebhookRequest
from bot.carriers.twilio import FORM, TwilioCarrier
from bot.carriers.twilio_signature import compute_signature, url_variants, verify_signature
from bot.compliance import clauses as clauses_module
from bot.compliance import keywords as keywords_module
from bot.compliance.keywords import ComplianceKeywords, Intent
from bot.engine import FlowEngine
from bot.flows import load_flows
from bot.matching import normalize as normalize_module
from bot.matching.faq import MATCH_MEMO, FaqIndex, score_text
from bot.matching.normalize import match_form, normalize
from bot.metrics import MAX_CHILDREN, Metrics
from bot.service import Handled, mms_by_prefix
from bot.sms import analyze
from bot.store.turns import session_from_row, session_row
from bot.types import ConversationKey, InboundMessage, Reply, Session
from tests.conftest import FLOWS

TOKEN = "hotpath-token-0123456789"
URL = "https://sms.example.com/webhooks/twilio"


def _request(fields: dict[str, str], token: str = TOKEN) -> WebhookRequest:
    signature = compute_signature(token, URL, list(fields.items()))
    headers = CIMultiDict({"X-Twilio-Signature": signature})
    return WebhookRequest("POST", URL, headers, urlencode(fields).encode(), FORM, 0.0)


def _fields(sid: str, body: str) -> dict[str, str]:
    return {"MessageSid": sid, "From": "+15550001234", "To": "+15555550100", "Body": body, "NumMedia": "0"}


# -- Twilio: the form is parsed once per request (WebhookRequest.form; see test_carrier_forms.py) --


def test_a_tampered_body_is_still_refused_after_a_good_one() -> None:
    carrier = TwilioCarrier(TOKEN)
    good = _request(_fields("SM" + "a" * 32, "hours?"))
    carrier.verify(good)
    tampered = WebhookRequest(good.method, good.url, good.headers, good.body.replace(b"hours", b"STOP!"),
                              good.content_type, good.now)
    with pytest.raises(WebhookError) as refused:
        carrier.verify(tampered)
    assert refused.value.status == 403


# -- Twilio signature -----------------------------------------------------------------------------


def _grouped_suffix(params: list[tuple[str, str]]) -> str:
    """The serialisation as the scheme describes it: names sorted, each name's distinct values sorted."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    return "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))


@pytest.mark.parametrize(
    "params",
    [
        [],
        [("b", "2"), ("a", "1")],
        [("a", "2"), ("a", "1"), ("a", "2"), ("ab", ""), ("a", "")],
        [("é", "x"), ("e", "y"), ("E", "z"), ("", "")],
    ],
)
def test_params_suffix_is_the_grouped_serialisation(params: list[tuple[str, str]]) -> None:
    assert twilio_signature._params_suffix(params) == _grouped_suffix(params)


def test_url_variants_cache_is_bounded_and_agrees() -> None:
    twilio_signature._cached_url_variants.cache_clear()
    for n in range(500):
        url = f"https://sms.example.com/webhooks/twilio?n={n}"
        assert list(twilio_signature._cached_url_variants(url)) == url_variants(url)
    info = twilio_signature._cached_url_variants.cache_info()
    assert info.maxsize is not None and info.currsize <= info.maxsize < 500


def test_signature_still_checked_against_every_port_variant() -> None:
    params = list(_fields("SM" + "a" * 32, "hi").items())
    with_port = compute_signature(TOKEN, "https://sms.example.com:443/webhooks/twilio", params)
    assert verify_signature(TOKEN, URL, params, with_port)
    assert not verify_signature(TOKEN, URL, params, with_port[:-2] + "AA")


# -- compliance keywords: ASCII fast path -------------------------------------------------------


@example("ℍ𝔼𝕃ℙ ı")  # compatibility capitals and dotless i, which a random draw seldom holds
@example("SТОР ꜱᴛᴏᴘ 🅢")  # Cyrillic homoglyphs, small capitals, negative circled letters
@example("S\u200bT\xadOP")  # invisible characters: a zero-width space is a space, a soft hyphen goes
@example("STOP\u2122 \u24ae")  # symbols spelled with letters: "™" is no letters, "⒮" one
@given(st.text(st.characters(max_codepoint=0x7F)) | st.text())
def test_fold_fast_path_equals_the_unicode_fold(text: str) -> None:
    # The Unicode path's definition (bot/compliance/clauses.py): invisible characters
    # out, symbols spelled with letters translated, casefold, NFKD without combining
    # marks, casefold again (compatibility capitals), letters that look Latin as Latin.
    text = text.translate(normalize_module.INVISIBLE).translate(clauses_module.SPELLED_SYMBOLS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert clauses_module.fold(text) == stripped.casefold().translate(clauses_module.LOOKALIKES)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("STOPPPP", "keyword STOP"),
        ("stooop!", "keyword STOP"),
        ("Opt-Out", "keyword OPT OUT"),
        ("ok. STOPPP", "keyword STOP as a sentence of its own"),
        ("stop texting me", None),
        ("menu", "no compliance rule matched"),
    ],
)
def test_opt_out_reasons_unchanged(text: str, reason: str | None) -> None:
    intent, said = ComplianceKeywords().explain(text)
    if reason is None:
        assert intent is Intent.OPT_OUT and said.startswith("revocation pattern")
    else:
        assert said == reason



def test_compliance_memo_gives_the_computed_verdict_and_is_bounded() -> None:
    keywords = ComplianceKeywords(extra_opt_out=["ARRET"])
    texts = ["STOP", "stop texting me", "Arrêt", "1", "help", "yes", "hi there", "x" * 400]
    for text in texts * 2:  # the second pass comes from the memo
        assert keywords.explain(text) == keywords._explain(text)
    info = keywords._memo.cache_info()
    assert info.hits == len(texts) - 1  # the 400-character text is never kept
    assert info.maxsize == keywords_module.EXPLAIN_MEMO
    for n in range(keywords_module.EXPLAIN_MEMO + 10):
        keywords.explain(f"question {n}")
    assert keywords._memo.cache_info().currsize == keywords_module.EXPLAIN_MEMO
    # Each vocabulary keeps its own: a flow's extra keyword never leaks into another flow's verdicts.
    assert ComplianceKeywords().explain("Arrêt")[0] is None

# -- per-message metrics and log event ------------------------------------------------------------


def test_metric_children_are_the_labelled_ones_and_bounded() -> None:
    metrics = Metrics()
    assert metrics.child(metrics.messages_in, "twilio", "flow") is metrics.messages_in.labels("twilio", "flow")
    metrics.child(metrics.messages_in, "twilio", "flow").inc()
    metrics.child(metrics.faq, "hit").inc(2)
    rendered = metrics.render().decode()
    assert 'textdesk_messages_in_total{carrier="twilio",outcome="flow"} 1.0' in rendered
    assert 'textdesk_faq_total{result="hit"} 2.0' in rendered
    for n in range(MAX_CHILDREN * 2):
        metrics.child(metrics.reloads, f"r{n}").inc()
    assert len(metrics._children) <= MAX_CHILDREN
    # Starting over never loses a count: labels() hands back the same child.
    metrics.child(metrics.reloads, "r0").inc()
    assert 'textdesk_flow_reloads_total{result="r0"} 2.0' in metrics.render().decode()


@pytest.mark.parametrize(
    ("variables", "pending"), [({}, ()), ({"order": "AC-123456", "a": "\u00e9"}, ("returns", "shipping"))]
)
def test_session_rows_written_without_json_calls_read_back_the_same(
    variables: dict[str, str], pending: tuple[str, ...]
) -> None:
    key = ConversationKey("twilio", "+15550001234", "+15555550100")
    session = Session(key, "retail", "v1", "menu", variables, pending, 1.5, 2.5)
    row = session_row(session)
    # The JSON json.dumps writes (sorted keys), so rows written before read back alike.
    assert row[6:8] == (json.dumps(variables, sort_keys=True), json.dumps(list(pending)))
    assert session_from_row(key, row[3:]) == session


def test_mms_prefixes_as_any_prefix_matches() -> None:
    allowed = mms_by_prefix({"*": ("+1",), "sinch": ("+44", "+33"), "none": ()})
    assert allowed("twilio", "+15550001234") and not allowed("twilio", "+445550001234")
    assert allowed("sinch", "+445550001234") and allowed("sinch", "+33612345678")
    assert not allowed("sinch", "+15550001234") and not allowed("none", "+15550001234")


def test_segment_memo_agrees_with_analyze_and_is_bounded() -> None:
    for text in ("", "hi", "é" * 80, "x" * 400, "Reply 1 or 2 🙂"):
        assert observe_module._segments(text) == analyze(text).segments
    info = observe_module._segments.cache_info()
    assert info.maxsize is not None and info.maxsize <= 4096


def _message(text: str) -> InboundMessage:
    return InboundMessage(channel="twilio", provider_id="SM" + "a" * 32, customer="+15550001234",
                          business="+15555550100", text=text)


def test_observe_counts_even_when_the_log_line_is_off(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    handled = Handled((Reply("hello"),), flow="retail", faq_result="hit")
    with caplog.at_level(logging.WARNING, logger="textdesk.conversation"):
        observe_module.observe(metrics, _message("hi"), handled, 0.002, False)
    assert not caplog.records
    with caplog.at_level(logging.INFO, logger="textdesk.conversation"):
        observe_module.observe(metrics, _message("hi"), handled, 0.002, False)
    (record,) = caplog.records
    event = record.event  # type: ignore[attr-defined]
    assert event["customer"] == "+15*******34" and event["reply_segments"] == [1]
    assert event["conversation"] == observe_module.conversation_id(_message("hi"))
    rendered = metrics.render().decode()
    assert 'textdesk_messages_in_total{carrier="twilio",outcome="flow"} 2.0' in rendered
    assert 'textdesk_messages_out_total{carrier="twilio",outcome="replied"} 2.0' in rendered
    assert 'textdesk_faq_total{result="hit"} 2.0' in rendered


# -- engine and FAQ matching ------------------------------------------------------------------------


def test_faq_memo_gives_the_computed_match_and_is_bounded() -> None:
    flow = load_flows(FLOWS).for_number("+15555550100")
    index = FaqIndex(flow.faqs, flow.settings.match_threshold, flow.settings.ambiguity_margin)
    texts = [normalize(t) for t in ("wat r ur hrs", "return policy", "shipping cost?", "lol", "", "gift card")]
    first = [index.match(t) for t in texts]
    assert first == [index._match(t) for t in texts] == [index.match(t) for t in texts]
    assert first[0].verdict == "answer" and first[3].verdict != "answer"
    for n in range(MATCH_MEMO + 100):
        index.match(f"question number {n}")
    info = index._memo.cache_info()
    assert info.currsize == MATCH_MEMO == info.maxsize


def test_engine_option_scores_equal_score_text() -> None:
    flow = load_flows(FLOWS).for_number("+15555550100")
    engine = FlowEngine(flow)
    options = [r.option_norm for s in flow.states.values() for r in s.choices if r.option_norm]
    assert options, "the example flow has fuzzy options to test"
    for norm in options:
        query = normalize("the rain jacket pls")
        fast = float(fuzz.token_set_ratio(match_form(query), engine._option_forms[norm], processor=None))
        assert fast == score_text(query, norm)


def _normalize_unicode_path(text: str) -> str:
    """``normalize`` as it was before its ASCII fast path: invisible characters out, always NFKD, strip marks."""
    decomposed = unicodedata.normalize("NFKD", text.translate(normalize_module.INVISIBLE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = normalize_module._APOSTROPHES.sub("", stripped.casefold())
    calmed = normalize_module._LETTER_RUNS.sub(r"\1\1", normalize_module._NON_WORD.sub(" ", folded))
    return " ".join(normalize_module.SHORTHAND.get(w, w) for w in calmed.split())


@given(st.text(st.characters(max_codepoint=0x7F)) | st.text())
@example("0\xad0")  # a soft hyphen inside a word: dropped, not a space
@example("stop\u200bnow")  # a zero-width space separates words
def test_normalize_fast_path_equals_the_unicode_path(text: str) -> None:
    assert normalize(text) == _normalize_unicode_path(text)
