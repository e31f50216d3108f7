"""Letters that look Latin but are not: Cyrillic and Greek homoglyphs, small capitals, emoji letters.

"SТОР" with a Cyrillic Т, О and Р looks exactly like STOP on a phone, and
multilingual keyboards and "font" apps produce such texts; "ꜱᴛᴏᴘ" (small
capitals) and "🅢🅣🅞🅟" (negative circled letters) come from the same apps and
have no Unicode decomposition. The customer means STOP. The rule: compliance
reads a Cyrillic or Greek letter that looks like a Latin one as that letter
(in both cases: "Т"/"т" is t, "Н"/"н" is h), a small capital as its letter,
and a negative circled or squared letter as its letter. What it looks like
decides, not how it sounds: Cyrillic "С" is the Latin "C", so an all-Cyrillic
"СТОР" reads "CTOP", as it looks. A flow's Cyrillic or Greek extras are read
the same way, so they still match.
"""

from __future__ import annotations

import pytest

from bot.compliance import ComplianceKeywords, Intent
from bot.compliance.clauses import fold

KW = ComplianceKeywords()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("S\u0422\u041e\u0420", "keyword STOP"),  # Cyrillic Т, О, Р
        ("ST\u041eP", "keyword STOP"),  # Cyrillic О
        ("\u0405\u0422\u041e\u0420", "keyword STOP"),  # all Cyrillic, Ѕ (dze) for S
        ("s\u0442\u043e\u0440", "keyword STOP"),  # lowercase Cyrillic т, о, р
        ("\u0455\u0442\u043e\u0440!", "keyword STOP"),
        ("ST\u039f\u03a1", "keyword STOP"),  # Greek Ο, Ρ
        ("\u0397\u0395LP", "keyword HELP"),  # Greek Η, Ε
        ("\u0423\u0415\u0405", "keyword YES"),  # Cyrillic У, Е, Ѕ
        ("\u0421\u0410NC\u0415L", "keyword CANCEL"),  # Cyrillic С, А, Е
        ("\ua731\u1d1b\u1d0f\u1d18", "keyword STOP"),  # small capitals ꜱᴛᴏᴘ
        ("\u029c\u1d07\u029f\u1d18", "keyword HELP"),  # ʜᴇʟᴘ
        ("\U0001f162\U0001f163\U0001f15e\U0001f15f", "keyword STOP"),  # 🅢🅣🅞🅟
        ("\U0001f182\U0001f183\U0001f17e\U0001f17f", "keyword STOP"),  # 🆂🆃🅾🅿
        ("unsubscr\u0131be", "keyword UNSUBSCRIBE"),  # dotless i, as before
    ],
)
def test_lookalike_letters_are_the_letters_they_look_like(text: str, reason: str) -> None:
    assert KW.explain(text)[1] == reason


def test_a_revocation_typed_with_lookalikes_opts_out() -> None:
    assert KW.classify("please \u0455\u0442\u043e\u0440 t\u0435xting m\u0435") is Intent.OPT_OUT
    assert KW.classify("\ua731\u1d1b\u1d0f\u1d18 \u1d1b\u1d07x\u1d1b\u026a\u0274\u0262 \u1d0d\u1d07") is Intent.OPT_OUT


def test_what_it_looks_like_decides() -> None:
    assert KW.classify("\u0421\u0422\u041e\u0420") is None  # СТОР looks like CTOP
    assert fold("\u0421\u0422\u041e\u0420") == "ctop"


def test_cyrillic_and_greek_extras_still_match() -> None:
    kw = ComplianceKeywords(
        extra_opt_out=["\u0421\u0422\u041e\u041f"],  # СТОП, Russian for stop
        extra_revocation_patterns=["\u043d\u0435 \u043f\u0438\u0448\u0438\u0442\u0435", "\u039c\u0397\u039d"],
    )
    assert kw.classify("\u0441\u0442\u043e\u043f") is Intent.OPT_OUT
    assert kw.classify("\u0421\u0442\u043e\u043f!") is Intent.OPT_OUT
    assert kw.classify("Пожалуйста, НЕ ПИШИТЕ мне") is Intent.OPT_OUT
    assert kw.classify("μην στέλνετε") is Intent.OPT_OUT
    assert KW.classify("\u0441\u0442\u043e\u043f") is None  # not without the extra


@pytest.mark.parametrize(
    "text",
    [
        "Где мой заказ?",  # where is my order
        "Πού είναι η παραγγελία μου;",
        "Теперь конец",  # now the end
        "\U0001f17f\ufe0f parking?",  # 🅿️ as an emoji
    ],
)
def test_ordinary_cyrillic_and_greek_texts_are_no_compliance_message(text: str) -> None:
    assert KW.classify(text) is None


def test_every_lookalike_is_found_by_the_search_that_guards_the_table() -> None:
    from bot.compliance.clauses import _LOOKALIKE_RE, LOOKALIKES

    assert all(_LOOKALIKE_RE.fullmatch(chr(cp)) for cp in LOOKALIKES)
    # and each reads the same in either case, as casefold (applied first) needs
    assert all(LOOKALIKES.get(ord(chr(cp).casefold()), "") == latin for cp, latin in LOOKALIKES.items())
