"""Revocation patterns: the phrases that opt a customer out beyond the keywords.

Regex source strings, matched one normalised clause at a time (see
:mod:`bot.compliance.clauses`), and compiled once per process. Kept apart from
the keyword vocabulary because they are data an editor or lawyer reviews on
their own: each pattern names the phrases it catches and why it is anchored.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from bot.compliance.clauses import LOOKALIKES

__all__ = ["REVOCATION_PATTERNS", "REVOCATION_TRIGGERS", "compile_pattern", "negated"]

# Patterns are searched (case-insensitively) in one clause at a time. A clause
# is what lies between punctuation, emoji or line breaks, normalised to
# lowercase, accent-free words separated by single spaces; apostrophes are
# dropped ("don't" -> "dont") and hyphens become spaces ("opt-out" -> "opt out").
# Each pattern needs an unambiguous object ("texting me", "your list", "these
# texts") or a whole clause of politeness around the keyword, because the bare
# words have everyday meanings in a support chat ("bus stop", "cancel my order").

# Words that may precede a bare keyword without changing its meaning.
_LEAD = (
    r"(?:please|pls|plz|pleas|pretty please|just|ok|okay|k|so|oh|hey|hi|hello|no|nope|omg|"
    r"god|seriously|again|now|i said|i already said|i told you|i told u|i said to|can you|"
    r"can u|you can|u can|could you|could u|would you|will you|wrong number|for the last time|"
    r"not interested|im not interested|no thanks|no thank you|who is this|whos this)"
)
# Words that may follow a bare keyword without changing its meaning.
_TAIL = (
    r"(?:please|pls|plz|pleas|thanks|thank you|thank u|thanx|thx|ty|tysm|now|right now|"
    r"already|asap|immediately|seriously|again|all|it|this|that|them|these|those|for real|"
    r"lol|omg|forever|for good|permanently|ok|okay|k|sir|maam|stop)"
)
# Swearing between verb and object, which angry opt-outs often contain.
_INT = (
    r"(?:(?:fucking|fuckin|freaking|freakin|effing|frickin|friggin|damn|goddamn|bloody|"
    r"the hell|the fuck) )?"
)
# Determiners and adjectives between a verb and "texts"/"messages".
_DET = (
    r"(?:all|these|this|the|your|ur|any|those|more|of|my|them|such|further|future|stupid|"
    r"annoying|fucking|freaking|damn|spam|spammy|automated|random)"
)
# Nouns that can only mean the messages themselves.
_MSGS = (
    r"(?:(?:text|txt|sms|promo|promotional|marketing) )?(?:texts?|txts?|messages?|msgs?|"
    r"sms|spam|promos?|promotions?|ads|advertisements?|alerts?|notifications?|notifs|"
    r"offers?|reminders?)"
)
_VERBING = (
    r"(?:texting|txting|texing|textin|messaging|msging|messagin|contacting|spamming|"
    r"bothering|harassing|bugging|pestering|calling)"
)
_ME = r"(?:me|us|my number|this number|my phone|this phone|my cell|this cell)"
_LIST = (
    r"(?:list|lists|mailing list|texting list|text list|sms list|contact list|contacts|"
    r"distribution list|call list|database|system|records|texting)"
)

REVOCATION_PATTERNS: tuple[str, ...] = (
    # "stop please", "ok stop", "unsubscribe thanks", "stop it", "stop stop stop".
    rf"^(?:{_LEAD} )*(?:stop|stopall|unsubscribe|unsub|optout|opt out|revoke)(?: {_TAIL})*$",
    # "please stop texting me", "quit messaging me", "stop fucking texting".
    rf"\b(?:stop|quit|cease|halt) {_INT}{_VERBING}(?: {_ME}\b| {_TAIL}\b|$)",
    # "stop sending me messages", "stop these texts", "how do i stop getting texts".
    rf"\b(?:stop|quit|cease|halt) {_INT}(?:(?:sending|getting|receiving) (?:{_ME} )?)?"
    rf"(?:{_DET} )*{_MSGS}\b",
    # "please stop sending me these", "stop sending me this crap", "stop sending".
    rf"\b(?:stop|quit) sending(?: {_ME})?(?: (?:these|this|those|them|it|that|your|ur|all|any))*"
    rf"(?: (?:stuff|crap|junk|shit|garbage|trash|things|spam))?(?: {_TAIL})*$",
    # "cancel text alerts", "turn off sms", "end these messages".
    rf"\b(?:cancel|end|turn off|disable|unsubscribe from) (?:{_DET} )*(?:texts|txts|"
    r"text messages|text message|text alerts|text notifications|sms|sms alerts|sms messages|"
    r"sms notifications|texting|messages|msgs)\b",
    # "no more texts", "please no more messages" -- anchored: "i got no more
    # messages about my repair" is a delivery complaint, not a revocation.
    rf"^(?:{_LEAD} )*no more {_INT}(?:{_DET} )*(?:{_MSGS}|texting|txting|messaging)\b",
    # "dont text me anymore", "never message me again", "do not contact me".
    rf"\b(?:dont|do not|never|pls dont|please dont) (?:ever )?{_INT}(?:text|txt|message|msg|"
    rf"contact|sms|spam) {_ME}(?: (?:again|anymore|any more|ever|ever again|no more|please|"
    r"pls|plz|thanks|thx|ty|ok|okay|lol|seriously|period))*$",
    # "dont send me any more texts".
    rf"\b(?:dont|do not|never) send {_ME} (?:(?:any|anymore|any more|more|{_DET}) )*{_MSGS}\b",
    # "i dont want these texts", "no longer wish to receive messages".
    rf"\b(?:dont|do not|no longer|never) (?:want|wish|need|wanna)(?: to (?:receive|get|be sent))? "
    rf"(?:(?:any|anymore|any more|{_DET}) )*{_MSGS}\b",
    # "i dont want to be texted".
    r"\b(?:dont|do not|no longer|never) (?:want|wish|wanna) (?:to be |being )?"
    r"(?:texted|txted|messaged|contacted)\b",
    # "i want to opt out", "opt me out please", "opt out of these texts" -- but
    # not "can i opt out of the extended warranty".
    rf"\bopt (?:me )?out(?: (?:of|from) (?:{_DET} )*(?:{_MSGS}|{_LIST}|this number|your number|"
    rf"everything|all)\b|(?: {_TAIL})*$)",
    # "unsubscribe me", "how do i unsubscribe" -- unless the clause is about email.
    r"\bunsub(?:scribe)?\b(?!.*\b(?:e ?mails?|newsletters?|mailing list)\b)",
    # "take me off your list", "remove my number from your system".
    r"\b(?:take|get|remove|delete|drop|erase|scratch|cross) (?:me|us|my number|my phone number|"
    r"my cell|my phone|this number|my name|my info) (?:off|from|out of) (?:of )?"
    rf"(?:{_DET} )*(?:{_LIST}|{_MSGS})\b",
    # "please remove me", "delete my number".
    rf"^(?:{_LEAD} )*(?:remove|delete|unenroll|unregister|deregister) (?:me|my number|"
    rf"this number|my phone number)(?: {_TAIL})*$",
    # "take me off", "get me off this".
    rf"^(?:{_LEAD} )*(?:take|get) me off(?: (?:it|this|that|there|here))?(?: {_TAIL})*$",
    r"\bleave me alone\b",
    # "i revoke my consent", "withdraw permission".
    r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|rescinding|retract) (?:my |all |any )?"
    r"(?:consent|permission|authorization|authorisation|opt in)\b",
    # "i never signed up for this", "i didnt ask for these texts".
    r"\b(?:never|didnt|did not) (?:agree|agreed|consent|consented|sign up|signed up|subscribe|"
    r"subscribed|opt in|opted in|ask|asked) (?:to|for) "
    rf"(?:(?:{_DET} )*{_MSGS}\b|texting\b|this$|these$|it$|that$)",
)
"""Built-in revocation phrases (regex source strings), matched per clause.

A flow may add more through ``extra_revocation_patterns`` but cannot remove
these. Patterns see the normalised clause described above, so write them in
lowercase, without apostrophes or punctuation (``dont text me``).
"""


# What each built-in pattern cannot match without, in REVOCATION_PATTERNS'
# order: every group (a tuple of literals) must have one literal in the
# clause. A long text is searched only with the patterns whose groups it
# satisfies (bot.compliance.keywords): an 'in' test costs a fraction of a
# regex search, which tries the pattern at every position of the clause.
# tests/test_compliance_long_texts.py generates matches of every pattern and
# checks that each satisfies its groups.
_MSG_WORDS = ("text", "txt", "sms", "messages", "msgs")
_NEGATIONS = ("dont", "do not", "never")
REVOCATION_TRIGGERS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("stop", "unsub", "opt", "revoke"),),  # "stop please"
    (("stop", "quit", "cease", "halt"),),  # "stop texting me"
    (("stop", "quit", "cease", "halt"),),  # "stop sending me messages"
    (("stop sending", "quit sending"),),  # "stop sending me these"
    (("cancel", "end", "turn off", "disable", "unsubscribe from"), _MSG_WORDS),  # "cancel text alerts"
    (("no more",),),  # "no more texts"
    (_NEGATIONS, ("text", "txt", "message", "msg", "contact", "sms", "spam")),  # "dont text me"
    (_NEGATIONS, ("send ",)),  # "dont send me any more texts"
    ((*_NEGATIONS, "no longer"), ("want", "wish", "need", "wanna")),  # "i dont want these texts"
    ((*_NEGATIONS, "no longer"), ("texted", "txted", "messaged", "contacted")),  # "i dont want to be texted"
    (("opt ",),),  # "opt me out"
    (("unsub",),),  # "how do i unsubscribe"
    (("take", "get", "remove", "delete", "drop", "erase", "scratch", "cross"), (" off", " from", " out of")),
    (("remove", "delete", "unenroll", "register"),),  # "please remove me"
    (("me off",),),  # "take me off"
    (("leave me alone",),),
    (("revok", "withdraw", "rescind", "retract"), ("consent", "permission", "authori", "opt in")),
    (("never", "didnt", "did not"), (" to ", " for ")),  # "i never signed up for this"
)


# A negation of the customer's own right before a matched revocation undoes it:
# "dont stop texting me", "please never unsubscribe me", "i didnt opt out",
# "i dont want to unsubscribe". Its subject must not be the business (or a
# question about it): "you never stop texting me" and "why wont you stop" are
# complaints and requests, and still opt out. Seen in the last _NEGATION_REACH
# characters before the match, which hold the longest negation and its subject
# word whole, so the cost per match is flat however long the clause is.
_NEGATION = re.compile(
    r"(?:^|(\w+) )(?:dont|do not|never|didnt|did not|wont|will not)"
    r"(?: ever)?(?: (?:want|wanna|need|have)(?: to)?)? $"
)
_NOT_THE_CUSTOMER = frozenset({"you", "u", "ya", "yall", "they", "it", "why"})
_NEGATION_REACH = 64


def negated(clause: str, start: int) -> bool:
    """Whether the revocation matched at ``start`` of a normalised clause is negated."""
    if start == 0:
        return False
    found = _NEGATION.search(clause[max(0, start - _NEGATION_REACH) : start])
    return found is not None and found.group(1) not in _NOT_THE_CUSTOMER


# Pattern syntax that means the same with and without IGNORECASE on a folded
# clause: lowercase ASCII letters, digits, spaces, groups, lookarounds,
# alternation, quantifiers, anchors, "." and word boundaries. No character
# classes (a range like "[0-9A-Z]" minus its capitals can still hold only
# capitals), no other escapes, no backreferences (they compare captured text).
_CASE_FREE = re.compile(r"(?:[a-z0-9 ()?:!=<|*+^$.{},]|\\b)*")


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a revocation pattern once per process, however many flows use it.

    Raises:
        ValueError: The pattern is not a valid regex, or it matches an empty
            clause (it would then opt out every message).
    """
    # Strip accents the same way clauses are, so "arrêtez" in a pattern still
    # matches, and read letters that look Latin as clauses do, so "не пишите"
    # still matches "НЕ ПИШИТЕ"; regex syntax is ASCII, so neither changes
    # its meaning (but a class of such letters, "[а-я]", now reads "[a-я]").
    source = "".join(
        ch for ch in unicodedata.normalize("NFKD", pattern) if not unicodedata.combining(ch)
    ).translate(LOOKALIKES)
    # Case-insensitive matching costs sre about twice the time, and the
    # patterns run on every message. A folded clause is lowercase (see
    # bot.compliance.clauses.fold), and in folded text the only character
    # re.IGNORECASE equates with a lowercase ASCII letter is that letter
    # (tests/test_compliance_keywords.py checks every code point). So a
    # pattern made of _CASE_FREE syntax alone, like every built-in one,
    # matches exactly the same without it. Any other, e.g. a flow's
    # "STOP TEXTING" or "[a-z]+", keeps IGNORECASE.
    flags = 0 if _CASE_FREE.fullmatch(source) else re.IGNORECASE
    try:
        compiled = re.compile(source, flags)
    except (re.error, ValueError) as exc:  # ValueError: e.g. "(?a)(?u)", incompatible flags
        raise ValueError(f"invalid revocation pattern {pattern!r}: {exc}") from exc
    if compiled.search("") is not None:
        raise ValueError(f"revocation pattern {pattern!r} matches an empty message")
    return compiled
