"""Mistyped opt-out keywords: which count, and why.

A customer who wants out and mistypes STOP must not keep receiving texts (a
missed revocation is the costly mistake; a wrong opt-out costs a START). The
rule, deterministic and only for a whole message or a sentence of its own:

- an opt-out keyword of 4 to 7 letters with two neighbouring letters swapped
  ("stpo", "sotp", "cancle") or one letter doubled ("stopp", "quitt");
- an opt-out keyword of 8 or more letters (UNSUBSCRIBE) with any one letter
  added, dropped, changed or swapped ("unsubscibe", "unsuscribe");
- never a word that is itself a keyword of any intent (exact keywords win);
- three letters or fewer (END) only exactly: one edit of a three-letter word
  is another word.

Other edits of short words make other words ("step", "shop", "top",
"spot"), so they do not count. Opt-in and HELP stay exact.
"""

from __future__ import annotations

import pytest

from bot.compliance import ComplianceKeywords, Intent

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("stopp", "STOP"),
        ("Stpo", "STOP"),
        ("SOTP", "STOP"),
        ("tsop!", "STOP"),
        ("sttop", "STOP"),
        ("sstop.", "STOP"),
        ("Cancle", "CANCEL"),
        ("cancell", "CANCEL"),
        ("qiut", "QUIT"),
        ("quitt", "QUIT"),
        ("revkoe", "REVOKE"),
        ("otpout", "OPTOUT"),
        ("opt otu", "OPTOUT"),
        ("unsubscibe", "UNSUBSCRIBE"),
        ("unsuscribe", "UNSUBSCRIBE"),
        ("Unsubscrive", "UNSUBSCRIBE"),
        ("unsubsrcibe", "UNSUBSCRIBE"),
        ("unsubscribes", "UNSUBSCRIBE"),
        ("stoppall", "STOPALL"),
    ],
)
def test_a_mistyped_keyword_as_the_whole_message_opts_out(text: str, keyword: str) -> None:
    assert KW.explain(text) == (Intent.OPT_OUT, f"keyword {keyword} (misspelt)")


def test_a_mistyped_keyword_as_a_sentence_of_its_own_opts_out() -> None:
    assert KW.explain("Stpo. Thanks") == (Intent.OPT_OUT, "keyword STOP (misspelt) as a sentence of its own")
    assert KW.classify("who is this?? stopp") is Intent.OPT_OUT
    # ...and asked about, it is a question like the keyword itself.
    assert KW.classify("Stopp? what do you mean") is None


@pytest.mark.parametrize(
    "text",
    [
        "step", "shop", "top", "spot", "stops", "sto", "stp", "stoo", "atop",  # other words, other edits
        "ned", "edn", "endd", "and",  # END: exact only
        "quiet", "quilt", "suit",
        "unstop", "UNSTOP",  # a keyword of its own (opt-in) wins
        "stpo texting me",  # misspellings count only as a whole keyword
        "yess", "hlep", "statr",  # opt-in and HELP stay exact
    ],
)
def test_other_words_and_edits_do_not_opt_out(text: str) -> None:
    assert KW.classify(text) is not Intent.OPT_OUT, KW.explain(text)


def test_an_exact_keyword_of_another_intent_wins_over_a_misspelling() -> None:
    kw = ComplianceKeywords(extra_help=["STPO"])  # no error: STPO is a HELP keyword here
    assert kw.explain("stpo") == (Intent.HELP, "keyword STPO")
    assert kw.explain("sotp") == (Intent.OPT_OUT, "keyword STOP (misspelt)")


def test_an_extra_keyword_is_forgiven_alike() -> None:
    kw = ComplianceKeywords(extra_opt_out=["ARRET"])
    assert kw.explain("arrte") == (Intent.OPT_OUT, "keyword ARRET (misspelt)")
    assert KW.classify("arrte") is None


def test_misspellings_are_not_reserved_words_but_are_reserved() -> None:
    assert "STPO" not in KW.reserved_words
    assert KW.is_reserved("stpo")
