"""Tests for bot.compliance.keywords: opt-out / opt-in / HELP classification."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.compliance import (
    BASE_HELP_KEYWORDS,
    BASE_OPT_IN_KEYWORDS,
    BASE_OPT_OUT_KEYWORDS,
    REVOCATION_PATTERNS,
    ComplianceKeywords,
    Intent,
)

KW = ComplianceKeywords()

# How customers actually type a bare keyword: any casing, padded, shouted,
# punctuated or decorated with emoji.
DECORATIONS = (
    "{}",
    " {} ",
    "{}!",
    "{}.",
    "{}!!!",
    "{}?",
    "\t{}\n",
    "{} 🙏",
    "🛑 {}",
    '"{}"',
    "*{}*",
    "¡{}!",
    "{} :)",
)


def casings(word: str) -> tuple[str, ...]:
    return (word.upper(), word.lower(), word.capitalize(), word.swapcase().capitalize())


def variants(word: str) -> list[str]:
    return [deco.format(cased) for cased in casings(word) for deco in DECORATIONS]


BASE = (
    [(word, Intent.OPT_OUT) for word in BASE_OPT_OUT_KEYWORDS]
    + [(word, Intent.OPT_IN) for word in BASE_OPT_IN_KEYWORDS]
    + [(word, Intent.HELP) for word in BASE_HELP_KEYWORDS]
)


@pytest.mark.parametrize(("word", "intent"), BASE)
def test_every_base_keyword_in_every_casing_and_punctuation(word: str, intent: Intent) -> None:
    for text in variants(word):
        assert KW.explain(text) == (intent, f"keyword {word}"), text


def test_base_sets_are_exactly_the_documented_ones() -> None:
    # Twilio's default list (with REVOKE/OPTOUT since 2025-05-14) plus the FCC's "opt out".
    assert set(BASE_OPT_OUT_KEYWORDS) == {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
    }  # fmt: skip
    assert set(BASE_OPT_IN_KEYWORDS) == {"START", "UNSTOP", "YES"}
    assert set(BASE_HELP_KEYWORDS) == {"HELP", "INFO"}


@pytest.mark.parametrize(
    ("text", "display"),
    [
        ("opt-out", "OPT OUT"),
        ("Opt Out", "OPT OUT"),
        ("opt out", "OPT OUT"),
        ("OPT_OUT!", "OPT OUT"),
        ("optout", "OPTOUT"),
        ("OptOut.", "OPTOUT"),
        ("stop all", "STOPALL"),
        ("Stop-All", "STOPALL"),
        ("S.T.O.P", "STOP"),
        ("ＳＴＯＰ", "STOP"),  # full-width letters from some keyboards
        ("STOPPPP", "STOP"),  # letters repeated for emphasis
        ("stooooop!!", "STOP"),
        ("QUITTTT", "QUIT"),
        ("unsubscribe 😡😡", "UNSUBSCRIBE"),
    ],
)
def test_whole_message_opt_out_spellings(text: str, display: str) -> None:
    assert KW.explain(text) == (Intent.OPT_OUT, f"keyword {display}")


def test_accents_are_ignored_for_extra_keywords() -> None:
    kw = ComplianceKeywords(extra_opt_out=["ARRET"])
    assert kw.explain("Arrêt!") == (Intent.OPT_OUT, "keyword ARRET")
    assert kw.classify("ARRÊTE") is None  # a different word unless the flow adds it


# --- Longer texts ---------------------------------------------------------------

REVOCATIONS = [
    # from the brief
    "please stop texting me",
    "stop. thank you",
    "stop thanks",
    "unsubscribe me",
    "stop messaging me",
    "take me off your list",
    "remove me from this list",
    "i want to opt out",
    "no more texts",
    "dont text me anymore",
    "stop sending me messages",
    "stop please",
    # our own, as people text them
    "Stop, wrong number",
    "who is this?? STOP",
    "pls stop",
    "stop texting me!!!",
    "I said STOP",
    "can you stop texting me?",
    "how do i unsubscribe",
    "Please remove me from your texting list",
    "don't text this number again",
    "don’t text me anymore",
    "I never signed up for this",
    "stop sending me these texts",
    "no more messages please",
    "take me off the list thanks",
    "opt me out",
    "quit texting me",
    "STOP STOP STOP",
    "stop fucking texting me",
    "I revoke my consent to receive texts",
    "i dont want these texts anymore",
    "how do I stop getting these messages",
    "leave me alone",
    "Cancel. I don't want these",
    "Unsubscribe please",
    "do not contact me",
    "stop all messages",
    "please take my number off your list",
    "remove my number from your system",
    "I want to opt-out of text messages",
    "stop it",
    "I no longer wish to receive text messages",
    "stop spamming me",
    "ok stop",
    "Stop 🛑 thanks",
    "end these texts",
    "delete my number please",
    "cancel text alerts",
    "Never text me again",
    "i didnt ask for these texts",
    "STOP\nSent from my iPhone",
    "Stop texting me. I'm not interested.",
    "Thanks but please unsubscribe me",
    "Wrong number, stop",
    "please stop",
    "i dont want to be texted",
    "STOPALL please",
    "End.",
    "Quit! Who gave you my number?",
    "STOP SENDING ME THIS CRAP",
    "i'm not interested stop",
    "U can stop now",
    "no thanks, stop",
]

NOT_REVOCATIONS = [
    # from the brief
    "where is the bus stop",
    "does the sale end today",
    "can I cancel my order",
    "the zipper wont stop sticking",
    "what time do you start",
    "yes I want the blue one",
    "I need help with my order",
    "stop by the store",
    # our own: the same words in their everyday support-chat meanings
    "Can you stop by tomorrow to look at my bike?",
    "my chain wont stop squeaking",
    "when does the promo end?",
    "i want to cancel my appointment",
    "please cancel my order #4521",
    "how do I start a return",
    "yes please send the menu",
    "help me find a helmet",
    "is there any info on tubeless tyres",
    "my brakes cant stop the bike on hills",
    "can you stop sending the package to my old address",
    "i got no more messages about my repair",
    "can i opt out of the extended warranty",
    "I unsubscribed from your emails, will I still get order updates?",
    "how do i unsubscribe from the email newsletter",
    "take me off the waitlist for the gravel bike",
    "remove me from the group ride on saturday",
    "I quit my job so I need a cheaper bike",
    "the stop light on my bike is broken",
    "what's the end date of the sale",
    "Is the start time still 9am?",
    "Yes. What time are you open?",
    "help! my tire is flat",
    "End of season sale still on?",
    "can I stop payment on the deposit",
    "Where do I stop to pick up my bike",
    "The ride will end at the shop",
    "no more stock of the red helmet?",
    "I cancelled my order, did you get it?",
    "please send me more info",
    "Start my repair please",
    "I can't stop texting my friends about my new bike lol",
    "Cancel? No, keep it",
    "Will you end the promo early?",
    "can you turn off the alarm on the bike",
    "I need to stop at the bank first",
    "stop sending me stuff to my old address",
    "you can stop by at 5",
    "Can you text me when it's ready",
    "don't text me before 9am, I work nights",
    "remove the pedals please",
    "no more questions, thanks!",
    "My bike won't start",
    "stahp",  # typos need not match
    "",
    "   ",
    "🙏👍",
]


def test_at_least_25_examples_each_way() -> None:
    assert len(REVOCATIONS) >= 25
    assert len(NOT_REVOCATIONS) >= 25


@pytest.mark.parametrize("text", REVOCATIONS)
def test_revocations_in_longer_texts_opt_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


@pytest.mark.parametrize("text", NOT_REVOCATIONS)
def test_other_meanings_of_the_words_do_not_opt_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is None, reason


# --- Opt-in and HELP are whole-message only -------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("yes", Intent.OPT_IN),
        ("Yes!", Intent.OPT_IN),
        ("  YES 👍", Intent.OPT_IN),
        ("start", Intent.OPT_IN),
        ("Unstop.", Intent.OPT_IN),
        ("un-stop", Intent.OPT_IN),
        ("HELP", Intent.HELP),
        ("help?", Intent.HELP),
        ("Info.", Intent.HELP),
    ],
)
def test_opt_in_and_help_whole_message(text: str, intent: Intent) -> None:
    assert KW.classify(text) is intent


@pytest.mark.parametrize(
    "text",
    [
        "yes please send the menu",
        "yes please",
        "yes yes",
        "yesss",  # emphasis leniency is for opt-out only
        "start please",
        "start my repair",
        "help me",
        "help please",
        "HELP. what are your hours",
        "more info",
        "info on hours",
    ],
)
def test_opt_in_and_help_are_not_found_inside_longer_texts(text: str) -> None:
    assert KW.classify(text) is None


def test_opt_out_wins_over_opt_in_in_the_same_message() -> None:
    assert KW.classify("Start? No. STOP") is Intent.OPT_OUT


# --- explain ---------------------------------------------------------------------


def test_explain_names_the_rule() -> None:
    assert KW.explain("Stop!") == (Intent.OPT_OUT, "keyword STOP")
    assert KW.explain("yes") == (Intent.OPT_IN, "keyword YES")
    assert KW.explain("Info") == (Intent.HELP, "keyword INFO")
    assert KW.explain("Stop. Thank you") == (
        Intent.OPT_OUT,
        "keyword STOP as a sentence of its own",
    )
    assert KW.explain("opt-out. thanks") == (
        Intent.OPT_OUT,
        "keyword OPT OUT as a sentence of its own",
    )
    assert KW.explain("where is the bus stop") == (None, "no compliance rule matched")
    assert KW.explain("!!!") == (None, "no letters or digits")


def test_explain_quotes_the_pattern_and_the_matched_words() -> None:
    intent, reason = KW.explain("Please stop texting me!!")
    assert intent is Intent.OPT_OUT
    source = next(p for p in REVOCATION_PATTERNS if f"{p!r}" in reason)
    assert reason == f"revocation pattern {source!r} matched 'stop texting me'"


def test_a_question_about_the_keyword_is_not_a_sentence_of_its_own() -> None:
    assert KW.classify("Cancel? I only asked about the fee") is None
    # ...but the whole message "Stop?" is still the keyword, as carriers read it.
    assert KW.classify("Stop?") is Intent.OPT_OUT


def test_classification_is_deterministic() -> None:
    texts = REVOCATIONS + NOT_REVOCATIONS
    first = [KW.explain(t) for t in texts]
    again = [ComplianceKeywords().explain(t) for t in texts]
    assert first == again


# --- Flow extras: add, never remove ----------------------------------------------


def test_extras_add_keywords_and_patterns() -> None:
    kw = ComplianceKeywords(
        extra_opt_out=["ARRET", "Basta"],
        extra_opt_in=["SUBSCRIBE"],
        extra_help=["Support"],
        extra_revocation_patterns=[r"\bno quiero (?:mas )?mensajes\b"],
    )
    assert kw.explain("arrêt") == (Intent.OPT_OUT, "keyword ARRET")
    assert kw.explain("Basta. Gracias") == (
        Intent.OPT_OUT,
        "keyword BASTA as a sentence of its own",
    )
    assert kw.classify("No quiero más mensajes!") is Intent.OPT_OUT  # accents folded
    assert kw.classify("subscribe") is Intent.OPT_IN
    assert kw.classify("SUPPORT!") is Intent.HELP
    assert "ARRET" in kw.reserved_words
    assert kw.keywords(Intent.HELP) == ("HELP", "INFO", "SUPPORT")
    assert kw.revocation_patterns[: len(REVOCATION_PATTERNS)] == REVOCATION_PATTERNS
    assert kw.revocation_patterns[-1] == r"\bno quiero (?:mas )?mensajes\b"
    # The default vocabulary is untouched by another instance's extras.
    assert KW.classify("arret") is None


def test_extras_cannot_remove_base_keywords_or_patterns() -> None:
    kw = ComplianceKeywords(
        extra_opt_out=["ARRET"],
        extra_opt_in=["SUBSCRIBE"],
        extra_help=["SUPPORT"],
        extra_revocation_patterns=[r"\bbasta\b"],
    )
    for word, intent in BASE:
        assert kw.classify(word) is intent
    for text in REVOCATIONS:
        assert kw.classify(text) is Intent.OPT_OUT, text
    assert set(REVOCATION_PATTERNS) <= set(kw.revocation_patterns)


def test_extras_repeating_a_base_keyword_are_harmless() -> None:
    kw = ComplianceKeywords(extra_opt_out=["stop", "Opt-Out"], extra_help=["help"])
    assert kw.reserved_words == KW.reserved_words
    again = ComplianceKeywords(extra_revocation_patterns=REVOCATION_PATTERNS[:2])
    assert again.revocation_patterns == REVOCATION_PATTERNS


@pytest.mark.parametrize(
    "extras",
    [
        {"extra_opt_in": ["STOP"]},  # would turn an opt-out into an opt-in
        {"extra_help": ["cancel"]},
        {"extra_opt_out": ["yes"]},  # would take YES away from opt-in
        {"extra_opt_out": ["Y.E.S"]},
        {"extra_help": ["start"]},
        {"extra_opt_in": ["MORE"], "extra_help": ["more"]},
        {"extra_opt_in": ["stop please"]},  # a revocation phrase cannot become opt-in
        {"extra_help": ["unsubscribe me"]},
        {"extra_opt_in": ["stoooop"]},
    ],
)
def test_extras_cannot_move_a_word_to_another_intent(extras: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError):
        ComplianceKeywords(**extras)


@pytest.mark.parametrize(
    "extras",
    [
        {"extra_opt_out": ["!!!"]},
        {"extra_help": [""]},
        {"extra_revocation_patterns": ["(unclosed"]},
        {"extra_revocation_patterns": ["stop|"]},  # matches everything
        {"extra_revocation_patterns": [".*"]},
    ],
)
def test_invalid_extras_are_rejected(extras: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError):
        ComplianceKeywords(**extras)


def test_a_single_string_is_not_mistaken_for_a_list_of_letters() -> None:
    with pytest.raises(TypeError):
        ComplianceKeywords(extra_opt_out="ARRET")
    with pytest.raises(TypeError):
        ComplianceKeywords(extra_revocation_patterns=r"\bbasta\b")
    with pytest.raises(TypeError):
        ComplianceKeywords(extra_help=[42])  # type: ignore[list-item]


# --- Reserved words for the flow loader -------------------------------------------


def test_reserved_words_lists_every_keyword_sorted() -> None:
    words = KW.reserved_words
    assert words == tuple(sorted(words))
    # YES acts only on an opted-out number, so flows may use it ("Reply YES to confirm").
    assert set(words) == {*BASE_OPT_OUT_KEYWORDS, *BASE_OPT_IN_KEYWORDS, *BASE_HELP_KEYWORDS} - {"YES"}
    assert KW.keywords(Intent.OPT_IN) == ("START", "UNSTOP", "YES")
    assert not KW.is_reserved("Yes!") and KW.is_reserved("start")


@pytest.mark.parametrize(
    "word", ["STOP", "Stop!", "opt-out", "OptOut", "stop all", "start", "Help", "info", "stop please"]
)
def test_is_reserved(word: str) -> None:
    assert KW.is_reserved(word)


@pytest.mark.parametrize("word", ["MENU", "1", "AGENT", "hours", "stop by", "cancel order", "", "yes", "YES!"])
def test_is_not_reserved(word: str) -> None:
    assert not KW.is_reserved(word)


def test_is_reserved_includes_extras() -> None:
    kw = ComplianceKeywords(extra_help=["SUPPORT"])
    assert kw.is_reserved("support")
    assert not KW.is_reserved("support")


def test_intent_values_match_the_carrier_verdicts() -> None:
    # InboundMessage.carrier_opt_out uses Twilio's OptOutType spelling.
    assert {i.value for i in Intent} == {"STOP", "START", "HELP"}
    assert Intent("STOP") is Intent.OPT_OUT


# --- Robustness -------------------------------------------------------------------


# Repeated filler words are the worst case for the "(?:filler )*keyword" patterns.
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("please " * 5000 + "x", id="please"),
        pytest.param("stop " * 5000 + "x", id="stop"),
        pytest.param("no more " * 3000 + "bikes", id="no-more"),
        pytest.param("dont text me " * 2000 + "the receipt", id="dont-text-me"),
        pytest.param("unsubscribe " + "a " * 10000, id="unsubscribe-lookahead"),
        pytest.param("a" * 50000, id="one-word"),
        pytest.param("!?" * 20000, id="punctuation"),
    ],
)
def test_long_adversarial_texts_are_fast(text: str) -> None:
    started = time.perf_counter()
    KW.explain(text)
    assert time.perf_counter() - started < 1.0


@given(st.text(max_size=300) | st.text(alphabet="stop STOP.!?,'-😀\u0301\nyeshlp", max_size=60))
def test_any_text_classifies_without_error_and_explain_agrees(text: str) -> None:
    intent, reason = KW.explain(text)
    assert KW.classify(text) is intent
    assert reason
    # Opt-in and HELP are whole-message keywords, so their reason names one.
    if intent in (Intent.OPT_IN, Intent.HELP):
        assert reason.startswith("keyword ")


_PADDING = st.text(alphabet=" \t\n.,!?*\"'()-~😀🙏🛑", max_size=6)


@given(st.sampled_from(BASE), _PADDING, _PADDING)
def test_surrounding_whitespace_punctuation_and_emoji_never_matter(
    keyword: tuple[str, Intent], before: str, after: str
) -> None:
    word, intent = keyword
    assert KW.classify(before + word.lower() + after) is intent
