"""Greetings and emoji-only texts: what they say when no route of the flow takes them.

A customer who texts "hi" in the middle of a conversation is starting over or
checking we are there; a person would greet back and show the menu (or ask
the pending question again), not answer "Please reply with a number". And a
text of emoji alone normalises to nothing (``bot.matching.normalize`` drops
symbols), so "👍" after "Reply YES to confirm" reached the fallback. Rasa
bots answer these through a greet intent and an "affirm" that examples such
as "👍" train; Studio flows that do not list them fall through. Here, the
sensible minimum without any training: a fixed list of greetings, and a few
emoji read as the word they stand for.

Both are only tried where the flow's own routes did not take the text (the
engine decides where), so a flow that lists "hi" or "👍"'s word as a keyword
keeps it.
"""

from __future__ import annotations

from bot.matching.normalize import squeeze, visible

__all__ = ["emoji_reading", "is_greeting"]

# Compared squeezed (``bot.matching.normalize.squeeze``), as keywords are:
# "hiii", "heyyy" and "helloooo" are "hi", "hey" and "helo", and so is "hello".
_GREETINGS = frozenset(
    squeeze(w)
    for w in "hi hey hello hiya heya howdy yo hola buenas buenos greetings morning afternoon evening gm".split()
)
# Words that may come with a greeting without making it a question: "hey
# there", "good morning", "hi all", "buenos dias", and the customer checking
# we are there ("hello, is anyone there?", "hey are you there"), which a
# greeting back answers.
_WITH_GREETING = frozenset(
    squeeze(w)
    for w in "there good all guys folks everyone team dias tardes noches is are you anyone anybody someone".split()
)


def is_greeting(squeezed: str) -> bool:
    """Whether a text (normalised and squeezed) is a greeting and nothing else.

    "hi", "hello!!", "hey there", "Good morning" are; "hi, where is my
    order" is a question with a greeting in front and is not.
    """
    words = squeezed.split()
    return bool(words) and any(w in _GREETINGS for w in words) and all(
        w in _GREETINGS or w in _WITH_GREETING for w in words
    )


# What an emoji alone says, as the words a flow's keywords would use, most
# specific first: thumbs up answers a yes/no question ("yes"), and where no
# route asks one it is an acknowledgement ("ok"). Apple's and Google's
# keyboards offer these first. Hearts, smiles and raised hands sent alone after
# an answer say the customer is pleased: a person answers them as a thank-you
# (they reached "Sorry, I didn't get that"). They answer no question, so they
# are never "yes". Faces that laugh, frown or cry have no one reading (at us?
# with us?) and reach the fallback.
_PLEASED = (
    "\u2764\u2665\U0001f9e1\U0001f49b\U0001f49a\U0001f499\U0001f49c\U0001f90e\U0001f5a4\U0001f90d"  # hearts
    "\U0001f495\U0001f496\U0001f497\U0001f493\U0001f49e\U0001f498"  # hearts that sparkle, beat, grow
    "\u263a\U0001f642\U0001f60a\U0001f600\U0001f603\U0001f604\U0001f601"  # smiles
    "\U0001f60d\U0001f970\U0001f618\U0001f917"  # heart eyes, hearts around, a kiss, a hug
    "\U0001f64c\U0001f44f\U0001f4af"  # raised hands, clapping, 100
)
_READINGS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys("\U0001f44d\U0001f44c\u2705\u2714\u2611\U0001f197", ("yes", "ok")),  # 👍 👌 ✅ ✔ ☑ 🆗
    **dict.fromkeys("\U0001f44e\u274c\U0001f6ab", ("no",)),  # 👎 ❌ 🚫
    "\U0001f64f": ("thanks",),  # 🙏: thanks, far more often than please
    **dict.fromkeys(_PLEASED, ("thanks",)),
    "\U0001f44b": ("hi",),  # 👋
}
# Marks that change how an emoji looks, not what it says: the emoji
# presentation selector and the five skin tones.
_MODIFIERS = frozenset("\ufe0f\ufe0e\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")


def emoji_reading(text: str) -> tuple[str, ...]:
    """The words a text of emoji alone stands for ("👍" -> ("yes", "ok")), or () for any other text.

    Every emoji of the text must read alike ("👍👍" does; "👍👎" is no answer).
    """
    readings: set[tuple[str, ...]] = set()
    for char in visible(text):
        if char.isspace() or char in _MODIFIERS:
            continue
        reading = _READINGS.get(char)
        if reading is None:
            return ()
        readings.add(reading)
    return readings.pop() if len(readings) == 1 else ()
