"""Figures in a sentence: how many were killed, injured, detained, fled or displaced.

Pure functions. Vague quantities are coded as the ACLED Codebook codes fatalities it is not given as
a number: "several", "many", "a few" → 10, "dozens" → 12, "scores" → 20, "hundreds" → 100,
"thousands" → 1000; bounds are coded as the number stated ("over 300", "at least 12", "around 300"
→ 300, 12, 300), the lower bound ACLED prefers to an estimate.
"""

import re

from services.common.schema import EventCounts

_UNITS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
VAGUE = {
    "several": 10,
    "many": 10,
    "a few": 10,
    "a dozen": 12,
    "dozens": 12,
    "scores": 20,
    "hundreds": 100,
    "thousands": 1000,
    "tens of thousands": 10000,
}
_NUMBER = (
    r"(?P<number>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:\s+(?:million|thousand))?|"
    + "|".join(sorted((re.escape(w) for w in VAGUE), key=len, reverse=True))
    + "|"
    + r"(?:"
    + "|".join(_UNITS)
    + r")(?:[\s-](?:"
    + "|".join(_UNITS)
    + r"))?(?:\s+hundred)?"
    + r")"
)
# What a figure counts, and the words that say so.
_VERBS = {
    "killed": r"killed|dead|died|deaths|killing|fatalities|bodies",
    "injured": r"injured|wounded|injuring|wounding|hurt",
    "detained": r"detained|arrested|detaining|arresting|captured alive|taken prisoner|abducted",
    "fled": r"fled|flee|fleeing|escaped|deserted",
    "displaced": r"displaced|displacing|forced from their homes|made homeless",
}
_ANY_VERB = re.compile(r"\b(?:" + "|".join(_VERBS.values()) + r")\b", re.IGNORECASE)
# "<number> [up to 6 words] <verb>" and "<verb> [up to 3 words] <number>".
_BEFORE = {
    field: re.compile(
        _NUMBER + r"\b(?:\s+[\w’'-]+){0,6}?\s+(?:were\s+|had\s+|have\s+|been\s+)*(?:" + verbs + r")\b", re.IGNORECASE
    )
    for field, verbs in _VERBS.items()
}
_AFTER = {
    field: re.compile(
        r"\b(?:" + verbs + r")\s+(?:at least\s+|about\s+|around\s+|some\s+|over\s+|more than\s+)?" + _NUMBER + r"\b",
        re.IGNORECASE,
    )
    for field, verbs in _VERBS.items()
}


def number(text: str) -> int | None:
    """A figure as a number: "302", "1,200", "twenty-five", "hundreds", "2 million"."""
    words = text.lower().strip()
    if words in VAGUE:
        return VAGUE[words]
    multiplier = 1
    for scale, factor in (("million", 1_000_000), ("thousand", 1000)):
        if words.endswith(scale):
            words, multiplier = words.removesuffix(scale).strip(), factor
    digits = words.replace(",", "")
    try:
        return int(float(digits) * multiplier)
    except ValueError:
        pass
    total = 0
    for part in re.split(r"[\s-]+", words):
        if part == "hundred":
            total = max(total, 1) * 100
        elif part in _UNITS:
            total += _UNITS[part]
        else:
            return None
    return total * multiplier or None


def find_counts(sentence: str) -> EventCounts:
    """The figures a sentence gives; the largest when it gives several for one kind. A figure right
    after a verb ("killed two farmers") belongs to that verb, never to a later one ("... and injured
    one"), so those are read first."""
    found: dict[str, int] = {}
    used: set[tuple[int, int]] = set()
    for patterns in (_AFTER, _BEFORE):
        for field, pattern in patterns.items():
            for match in pattern.finditer(sentence):
                span = match.span("number")
                # A year or a distance is not a head count.
                tail = sentence[span[1] : span[1] + 12].lower()
                if span in used or re.match(r"\s*(?:km|kilomet|miles|percent|%|years?|days?|months?|hours?)", tail):
                    continue
                # "killed two farmers and injured one": the figure of a verb is the nearest one.
                between = sentence[span[1] : match.end()]
                if patterns is _BEFORE and _ANY_VERB.search(between[: -len(match.group(0).split()[-1])]):
                    continue
                value = number(match.group("number"))
                if value is not None and 0 < value < 10_000_000 and not _is_year(match.group("number")):
                    found[field] = max(found.get(field, 0), value)
                    used.add(span)
    return EventCounts(**found)


def _is_year(text: str) -> bool:
    return text.isdigit() and len(text) == 4 and 1900 <= int(text) <= 2100


def merge(first: EventCounts, second: EventCounts) -> EventCounts:
    """Within one article: the larger figure of each kind (a later sentence often restates it)."""
    values = {}
    for field in EventCounts.model_fields:
        a, b = getattr(first, field), getattr(second, field)
        values[field] = max(a, b) if a is not None and b is not None else (a if a is not None else b)
    return EventCounts(**values)
