"""Deterministic, realistic FAQ sets and customer texts for the benchmarks.

A real retailer with thousands of FAQ phrasings mostly has *many* FAQs that
share words ("how much does the Summit daypack weigh" / "... the Ridge tent
weigh"), not a few FAQs asked a thousand ways. So a set of N phrasings is:
the 30 FAQs of ``flows/retail.yaml`` first, then product FAQs (product line x
product type x attribute, each with 3-5 phrasings from templates) and store
FAQs (city x topic), in a seeded shuffled order, cut at exactly N phrasings.

Customer texts are made from a phrasing or a held-out template of a chosen
FAQ, then roughened the way SMS is: shorthand, typos, dropped stop-words,
run-together words, caps, emoji, filler. About one in ten is off-topic.
Everything is seeded: the same arguments give the same data on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.flows import load_flow
from bot.flows.errors import Pos
from bot.flows.model import Faq

__all__ = ["Query", "faq_set", "off_topic", "queries", "retail_faqs", "roughen"]

ROOT = Path(__file__).resolve().parent.parent
_POS = Pos("bench", 1, 1)

LINES = (
    "TrailLite Summit Ridge Basecamp Alpine Cascade Tundra Canyon Glacier Sierra Boulder Timber Aspen "
    "Juniper Redwood Meadow Harbor Coastal Nomad Voyager Granite Falcon Cedar Ember Horizon Polar Drift "
    "Pioneer Switchback Talus"
).split()
TYPES = (
    "rain jacket|down jacket|fleece|daypack|backpack|hiking boots|trail runners|tent|sleeping bag|headlamp|"
    "water bottle|beanie|gloves|rain pants|base layer|hoodie|shorts|wool socks|duffel|trekking poles|"
    "puffy vest|sun hat|camp chair|stove"
).split("|")
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "weight": ("how much does the {p} weigh", "{p} weight", "is the {p} heavy", "what does the {p} weigh",
               "how light is the {p}"),
    "price": ("how much is the {p}", "{p} price", "what does the {p} cost", "is the {p} on sale",
              "price of the {p}"),
    "sizes": ("what sizes does the {p} come in", "{p} sizes", "does the {p} come in xl", "{p} size range",
              "is there a small {p}"),
    "colors": ("what colors does the {p} come in", "{p} colours", "is the {p} available in black",
               "{p} color options"),
    "waterproof": ("is the {p} waterproof", "{p} waterproof rating", "will the {p} keep me dry",
                   "is the {p} water resistant"),
    "stock": ("is the {p} in stock", "when is the {p} back in stock", "{p} sold out", "can i still buy the {p}"),
    "warranty": ("does the {p} have a warranty", "{p} warranty", "can you repair my {p}",
                 "my {p} broke what now"),
    "care": ("how do i wash the {p}", "{p} care instructions", "can i machine wash the {p}",
             "how to clean my {p}"),
    "material": ("what is the {p} made of", "{p} material", "is the {p} recycled", "what fabric is the {p}"),
}
CITIES = (
    "Denver Boulder Bend Portland Seattle Spokane Boise Missoula Tahoe Reno Flagstaff Tucson Santa-Fe Taos "
    "Durango Aspen Jackson Bozeman Eugene Olympia Tacoma Anchorage Juneau Fresno Sacramento Ogden Provo"
).replace("-", " ").split()
STORE_TOPICS: dict[str, tuple[str, ...]] = {
    "hours": ("what are the {c} store hours", "when does the {c} store open", "is the {c} store open sunday",
              "{c} store hours"),
    "address": ("where is the {c} store", "{c} store address", "how do i get to your {c} shop"),
    "parking": ("is there parking at the {c} store", "{c} store parking", "where do i park in {c}"),
    "phone": ("what is the phone number of the {c} store", "call the {c} store", "{c} store phone"),
    "events": ("any events at the {c} store", "{c} store workshops", "group hikes from the {c} store"),
}

SHORTHAND = {"you": "u", "your": "ur", "are": "r", "what": "wat", "please": "pls", "hours": "hrs",
             "about": "abt", "today": "2day", "tomorrow": "tmrw", "message": "msg", "package": "pkg",
             "thanks": "thx", "because": "bc", "people": "ppl"}
FILLERS_BEFORE = ("hey ", "hi ", "quick question ", "hello, ", "um ", "yo ", "")
FILLERS_AFTER = (" thx", " pls", " asap", " ??", "?", "!!", " 🙏", " 🤔", " lol", " eh", "")
OFF_TOPIC = (
    "lol", "ok thanks", "who won the game last night", "i like turtles", "is this a real person",
    "whats the weather", "hellooo", "good morning!", "👍", "wrong number sorry", "tell me a joke",
    "are you a robot", "my cat is sleeping on my keyboard", "do you like pizza", "nvm", "asdfghjkl",
    "can you recommend a good movie", "whats ur name", "is it going to rain tomorrow", "haha ok",
    "my dog ate my homework", "see ya", "sry meant to text my mom", "what time is it in tokyo",
)
# Each letter's right-hand neighbour on a QWERTY row (the last key's is its left one).
KEYBOARD = {row[i]: row[i + 1] if i + 1 < len(row) else row[i - 1]
            for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm") for i in range(len(row))}


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    faq_id: str | None  # the FAQ it was made from; None for off-topic texts


def retail_faqs() -> list[Faq]:
    """The 30 FAQs of the bundled example flow, as loaded."""
    return list(load_flow(ROOT / "flows" / "retail.yaml").faqs)


def _generated() -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(id, phrasings, held-out templates) for every product and store FAQ."""
    out = []
    for line in LINES:
        for kind in TYPES:
            product = f"{line} {kind}".lower()
            slug = product.replace(" ", "-")
            for attribute, templates in ATTRIBUTES.items():
                texts = tuple(t.format(p=product) for t in templates)
                # The last template is held out of the phrasings: texts made
                # from it test matching of a wording the editor never wrote.
                out.append((f"{slug}-{attribute}", texts[:-1], texts[-1:]))
    for city in CITIES:
        for topic, templates in STORE_TOPICS.items():
            texts = tuple(t.format(c=city.lower()) for t in templates)
            out.append((f"{city.lower().replace(' ', '-')}-store-{topic}", texts[:-1], texts[-1:]))
    return out


def faq_set(n: int, seed: int = 8) -> list[Faq]:
    """Exactly ``n`` phrasings: the example flow's FAQs first, then generated ones."""
    generated = _generated()
    random.Random(seed).shuffle(generated)
    faqs: list[Faq] = []
    total = 0
    pool = [(f.faq_id, f.phrasings) for f in retail_faqs()] + [(i, p) for i, p, _ in generated]
    if n > sum(len(p) for _, p in pool):
        raise ValueError(f"at most {sum(len(p) for _, p in pool)} phrasings can be generated")
    for faq_id, phrasings in pool:
        take = phrasings[: n - total]
        faqs.append(Faq(faq_id, _POS, take[0], take, f"answer for {faq_id}"))
        total += len(take)
        if total == n:
            break
    return faqs


def roughen(text: str, rng: random.Random) -> str:
    """Make a clean question look like a customer's text."""
    words = text.split()
    if rng.random() < 0.35:  # fragment: keep the longer words only ("traillite jacket weight?")
        kept = [w for w in words if len(w) > 3]
        words = kept or words
    words = [SHORTHAND.get(w, w) if rng.random() < 0.6 else w for w in words]
    for _ in range(rng.choice((0, 1, 1, 1, 2))):  # typos in words long enough to be corrected
        long = [i for i, w in enumerate(words) if len(w) >= 5]
        if not long:
            break
        i = rng.choice(long)
        words[i] = _typo(words[i], rng)
    if len(words) > 2 and rng.random() < 0.1:  # run two words together ("giftcard")
        i = rng.randrange(len(words) - 1)
        words[i : i + 2] = [words[i] + words[i + 1]]
    out = " ".join(words)
    if rng.random() < 0.15:
        out = out.upper()
    elif rng.random() < 0.3:
        out = out.capitalize()
    if rng.random() < 0.15:
        out += out[-1] * 2  # "pleaseee"
    return rng.choice(FILLERS_BEFORE) + out + rng.choice(FILLERS_AFTER)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]  # dropped letter
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped letters
    if kind == 2:
        return word[:i] + word[i] + word[i:]  # doubled letter
    return word[:i] + KEYBOARD.get(word[i], word[i]) + word[i + 1 :]  # neighbouring key


def off_topic(rng: random.Random) -> str:
    return rng.choice(OFF_TOPIC)


def queries(faqs: Sequence[Faq], count: int, seed: int = 88, off_topic_share: float = 0.1) -> list[Query]:
    """``count`` customer texts about ``faqs`` (and some about nothing they answer)."""
    rng = random.Random(seed)
    held_out = {faq_id: extra for faq_id, _, extra in _generated()}
    out: list[Query] = []
    for _ in range(count):
        if rng.random() < off_topic_share:
            out.append(Query(off_topic(rng), None))
            continue
        faq = rng.choice(faqs)
        source = rng.choice(faq.phrasings + held_out.get(faq.faq_id, ()))
        out.append(Query(roughen(source, rng), faq.faq_id))
    return out
