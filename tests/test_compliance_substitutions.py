"""Opt-out keywords with digits or symbols for letters ("ST0P", "$TOP", "5TOP", "unsubscr1be").

Customers type a zero for an O, a 5 or a dollar sign for an S, a 1 for an I or
an L (to dodge a filter, or from a keyboard's number row): "ST0P" on a phone
reads STOP, and the customer means it. The rule: in a word that mixes letters
with 0, 1, 3, 4, 5, 7, $ or @, those stand for o, i or l, e, a, s, t, s and
a, for opt-out only. A word that holds another digit (2, 6, 8, 9) or more of
them than letters is a code or a number ("AC123456", "10am", "2nd"), and a
digit on its own is a digit ("5 top tubes"). The word then means what the
keyword means there: "st0p texting me" opts out, "can I st0p my order?",
"don't st0p texting me" and "ST0P? what is that" do not. Opt-in and HELP stay exact.
"""

from __future__ import annotations

import pytest

from bot.compliance import ComplianceKeywords, Intent
from bot.compliance.clauses import normal_form
from bot.compliance.disguise import Disguises, Unmasked

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    "text",
    [
        "ST0P",
        "$TOP",
        "5TOP",
        "st0p!",
        "5T0P",
        "$t0p please",
        "unsubscr1be",
        "Unsubscr1be me",
        "cance1",
        "c4ncel. thanks",
        "qu1t",
        "3nd",
        "0pt 0ut",
        "0PT0UT",
        "r3voke",
        "ST0P texting me",
        "please $top sending me these texts",
        "who is this? 5TOP",
        "st0pall",
    ],
)
def test_a_keyword_with_digits_or_symbols_for_letters_opts_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


def test_the_reason_says_how_it_was_read() -> None:
    assert KW.explain("ST0P") == (Intent.OPT_OUT, "keyword STOP (read 'st0p' as 'stop')")
    assert KW.explain("$TOP") == (Intent.OPT_OUT, "keyword STOP (read '$top' as 'stop')")


@pytest.mark.parametrize(
    "text",
    [
        "can I st0p my order?",  # the everyday meaning, as "can I stop my order?"
        "don't st0p texting me",  # negated
        "ST0P? what is that",  # a question about the word
        "c4ncel my order please",
        "I need 5 top tubes",  # a digit on its own is a digit
        "where is my order AC-123456",
        "my order AC123456 hasn't arrived",
        "open at 10am?",
        "is the 2nd one in stock",
        "$5 off?",
        "Y3S",  # opt-in and HELP stay exact
        "H3LP",
        "$tart",
        "email me at stop@example.com",
    ],
)
def test_digits_and_symbols_that_are_no_request_do_not_opt_out(text: str) -> None:
    assert KW.classify(text) is not Intent.OPT_OUT, KW.explain(text)


def test_an_opt_in_keyword_that_reads_as_an_opt_out_with_digits_is_refused() -> None:
    with pytest.raises(ValueError):
        ComplianceKeywords(extra_opt_in=["ST0P"])


@pytest.mark.parametrize("text", ["S T 0 P", "5 T O P please", "s.t.0.p. thanks"])
def test_spelled_out_with_digits_for_letters_opts_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


@pytest.mark.parametrize("text", ["1 3 5 7", "room 4 a b please", "I need 5 t shirts"])
def test_spelled_out_digits_that_spell_nothing_do_not_opt_out(text: str) -> None:
    assert KW.classify(text) is not Intent.OPT_OUT, KW.explain(text)


def test_only_a_reading_that_holds_an_opt_out_word_is_read_again() -> None:
    # Each reading costs the rules a second pass over the whole text, so
    # ordinals, times and codes ("3rd" as "erd") are not read again.
    unmask = Disguises(["stop"], {"stop"}.__contains__).unmask
    assert unmask(normal_form("on the 3rd at 10am, order AC123456")) == ()
    assert unmask(normal_form("on the 3rd: ST0P")) == (
        Unmasked("on the erd: stop", (("3rd", "erd"), ("st0p", "stop"))),
    )
    # A "1" is an "i" or an "l": both readings, when either holds a wanted word.
    assert [u.text for u in Disguises(["cancel"], {"cancel"}.__contains__).unmask("cance1")] == ["cancel"]
    assert [u.text for u in Disguises(["quit"], {"quit"}.__contains__).unmask("qu1t")] == ["quit"]
