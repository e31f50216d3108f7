"""Opt-out keywords spelled out letter by letter ("S T O P please", "s.t.o.p. thanks").

A whole message spelled out ("S T O P", "s.t.o.p") was already the keyword:
the whole-message rule joins every word. In a longer text it was not: "S-T-O-P
please" read as the words "s", "t", "o", "p", "please". The rule: a run of
three or more single letters separated by spaces, dots, hyphens or asterisks
is read as one word for opt-out, so "s t o p" in a longer text means what
"stop" means there -- a request ("S T O P please", "s.t.o.p texting me"), or
an everyday word ("Can I s.t.o.p my order?"), a negated one ("don't s t o p
texting me") or a question about the word ("S.T.O.P? what is that"), which
do not opt out, exactly as with "stop". Opt-in and HELP stay whole-message only.
"""

from __future__ import annotations

import pytest

from bot.compliance import ComplianceKeywords, Intent

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    "text",
    [
        "S-T-O-P please",
        "S T O P please",
        "s.t.o.p. thanks",
        "S. T. O. P. Thank you",
        "S*T*O*P please",
        "s t o p texting me",
        "please s-t-o-p sending me these texts",
        "U N S U B S C R I B E me",
        "who is this? S T O P",
        "Q U I T messaging me",
        "c.a.n.c.e.l. thanks",
        "o-p-t o-u-t please",
    ],
)
def test_a_spelled_out_opt_out_in_a_longer_text_opts_out(text: str) -> None:
    intent, reason = KW.explain(text)
    assert intent is Intent.OPT_OUT, reason


def test_the_reason_says_how_it_was_read() -> None:
    assert KW.explain("S-T-O-P please")[1].endswith("(read 's t o p' as 'stop')")


@pytest.mark.parametrize(
    "text",
    [
        "Can I s.t.o.p my order?",  # the everyday meaning, as "Can I stop my order?"
        "don't s t o p texting me",  # negated
        "S.T.O.P? what is that",  # a question about the word
        "can you s t o p by the store",
        "my initials are J. R. R. and my order is late",
        "r u ok? i c u r busy",  # text speak: single letters that spell nothing
        "e n d of the season sale?",
        "H E L P me with my order",  # HELP stays whole-message only
        "S T A R T my repair please",
        "a b c d e s t o p",  # one run of letters that is no keyword
    ],
)
def test_spelled_out_words_that_are_no_request_do_not_opt_out(text: str) -> None:
    assert KW.classify(text) is not Intent.OPT_OUT, KW.explain(text)


def test_whole_message_spellings_keep_their_reason() -> None:
    assert KW.explain("S T O P") == (Intent.OPT_OUT, "keyword STOP")
    assert KW.explain("s.t.o.p") == (Intent.OPT_OUT, "keyword STOP")
    assert KW.explain("H E L P") == (Intent.HELP, "keyword HELP")


def test_an_opt_in_keyword_that_reads_as_an_opt_out_when_spelled_out_is_refused() -> None:
    # The constructor refuses opt-in/HELP keywords that compliance would read
    # as an opt-out; a spelled-out one is read so too.
    with pytest.raises(ValueError):
        ComplianceKeywords(extra_help=["s t o p now"])


@pytest.mark.parametrize(
    "text", ["S T O P please", "s.t.o.p. thanks", "ＳＴＯＰ? no: Ｓ Ｔ Ｏ Ｐ please", "S T О P please"]
)
def test_ascii_and_other_texts_read_spelled_out_words_alike(text: str) -> None:
    # Full-width letters and the Cyrillic О fold to ASCII; a line in Chinese
    # keeps the folded text non-ASCII, which is searched with another regex.
    assert KW.classify(text) is Intent.OPT_OUT
    assert KW.classify(text + "\n谢谢") is Intent.OPT_OUT
    assert KW.classify("Ｓ Ｔ λ Ｐ please\n谢谢") is None
