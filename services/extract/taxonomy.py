"""The event taxonomy: ACLED's event types and sub-event types, and the cue words that trigger each.

Aligned with the ACLED Codebook (2023/2024 edition, section "Event types and sub-event types");
docs/events.md lists the same rules for readers. Rules are tried in order and the first that matches
a sentence decides its event, so the more specific come first (a capture before the clash that led
to it, an air strike before a generic attack, excessive force before a peaceful protest).
"""

import re
from dataclasses import dataclass

BATTLES = "Battles"
EXPLOSIONS = "Explosions/Remote violence"
VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
PROTESTS = "Protests"
RIOTS = "Riots"
STRATEGIC = "Strategic developments"


@dataclass(frozen=True)
class Rule:
    type: str
    sub_type: str
    cue: re.Pattern[str]
    # Words that must also appear in the sentence (any of them), when given.
    requires: re.Pattern[str] | None = None
    # Words that veto the rule in this sentence.
    unless: re.Pattern[str] | None = None


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")", re.IGNORECASE)


_GOVERNMENT = _words(
    r"junta", r"military", r"regime", r"army retook", r"tatmadaw", r"government (?:troops|forces|soldiers)", r"police"
)
_PROTEST = _words(r"protest", r"demonstrat", r"rall(?:y|ies)\b", r"marched", r"strike by workers")

RULES: tuple[Rule, ...] = (
    Rule(
        BATTLES,
        "Government regains territory",
        _words(r"recaptur", r"retook", r"retaken", r"regain(?:ed|s)? control", r"won back"),
        requires=_GOVERNMENT,
    ),
    Rule(
        BATTLES,
        "Non-state actor overtakes territory",
        _words(
            r"captur(?:e|ed|es|ing)",
            r"seiz(?:e|ed|es|ing)",
            r"overr(?:an|un)",
            r"overtook",
            r"took control",
            r"taken control",
            r"take control",
            r"conquest",
            r"fell to",
            r"fall of",
            r"under (?:the )?control of",
        ),
        unless=_words(
            r"weapon\w* seized", r"seized (?:weapon|arms|ammunition|drugs)", r"cache of", r"mines?\b(?! blast)"
        ),
    ),
    # "fell" alone is as often sales or prices as a town: only with fighters in the sentence.
    Rule(
        BATTLES,
        "Non-state actor overtakes territory",
        _words(r"fell\b"),
        requires=_words(
            r"troops", r"forces", r"army", r"rebels?", r"fighters", r"insurgents?", r"militia", r"KIA", r"offensive"
        ),
        unless=_words(r"(?:prices?|sales|trade|exports?|imports?|revenue|rates?|shares?|numbers?) fell"),
    ),
    Rule(
        EXPLOSIONS,
        "Air/drone strike",
        _words(
            r"air ?strikes?", r"airstrikes?", r"drone (?:strike|attack)", r"bombed from", r"fighter jets?", r"aircraft"
        ),
    ),
    Rule(
        EXPLOSIONS,
        "Shelling/artillery/missile attack",
        _words(r"shell(?:ed|ing|s)\b", r"artillery", r"mortar", r"rocket", r"missile"),
    ),
    Rule(
        EXPLOSIONS,
        "Remote explosive/landmine/IED",
        _words(r"landmine", r"mine blast", r"roadside bomb", r"improvised explosive", r"\bied\b", r"bomb exploded"),
    ),
    Rule(
        PROTESTS,
        "Excessive force against protesters",
        _words(
            r"opened fire on (?:the )?(?:protesters|demonstrators|crowd)",
            r"shot (?:dead )?(?:protesters|demonstrators)",
        ),
    ),
    Rule(
        PROTESTS,
        "Protest with intervention",
        _PROTEST,
        requires=_words(r"dispersed", r"tear gas", r"arrest", r"detain", r"broke up", r"rubber bullets"),
    ),
    Rule(RIOTS, "Mob violence", _words(r"\bmob\b", r"lynch")),
    Rule(RIOTS, "Violent demonstration", _words(r"riot", r"violent (?:protest|demonstration)")),
    Rule(
        PROTESTS,
        "Peaceful protest",
        _PROTEST,
        unless=_words(r"protest(?:ed|s)? (?:against|over) the (?:decision|offer)"),
    ),
    Rule(
        VIOLENCE_AGAINST_CIVILIANS,
        "Abduction/forced disappearance",
        _words(r"abduct", r"kidnapp", r"forcibly disappeared"),
    ),
    Rule(
        VIOLENCE_AGAINST_CIVILIANS,
        "Attack",
        _words(
            r"massacre",
            r"executed",
            r"shot dead",
            r"killed (?:\w+ )?(?:civilians|villagers|residents)",
            r"torched (?:homes|houses|villages?)",
            r"burned (?:down )?(?:homes|houses|villages?)",
        ),
    ),
    Rule(
        BATTLES,
        "Armed clash",
        _words(
            r"clash(?:ed|es)?",
            r"fighting (?:broke out|erupted)",
            r"fought",
            r"battle(?:d|s)?\b",
            r"attack(?:ed|s)?\b",
            r"offensive",
            r"ambush(?:ed)?",
            r"advanced (?:on|towards?)",
            r"firefight",
            r"skirmish",
        ),
        unless=_words(r"cyber ?attack", r"heart attack", r"attacks? on (?:the )?(?:offer|plan)"),
    ),
    Rule(
        STRATEGIC,
        "Agreement",
        _words(r"ceasefire", r"cease-fire", r"truce", r"peace (?:deal|agreement|accord)", r"signed an agreement"),
    ),
    Rule(
        STRATEGIC,
        "Arrests",
        _words(r"arrested", r"detained", r"taken into custody"),
        # Arrests at a protest are coded as the protest, "with intervention" (ACLED Codebook).
        unless=_PROTEST,
    ),
    Rule(
        STRATEGIC,
        "Non-violent transfer of territory",
        _words(
            r"handed over (?:control|the town|the base)",
            r"withdrew from",
            r"withdrawn from",
            r"abandoned (?:the )?(?:town|base|camp|post)",
        ),
    ),
    Rule(
        STRATEGIC,
        "Looting/property destruction",
        _words(r"looted", r"looting", r"ransacked", r"destroyed (?:property|homes|houses)"),
    ),
)

# How sure a rule's cue alone makes an event; docs/events.md explains the figures.
BASE_CONFIDENCE = 0.45


def classify(sentence: str) -> tuple[Rule, re.Match[str]] | None:
    """The sentence's event: the type whose cue comes first (the main clause usually does: "an air
    strike hit the town ..., a month after the KIA captured it"), and within that type the first
    rule in order, the most specific."""
    met: list[tuple[Rule, re.Match[str]]] = []
    for rule in RULES:
        match = rule.cue.search(sentence)
        if match is None:
            continue
        if rule.requires is not None and not rule.requires.search(sentence):
            continue
        if rule.unless is not None and rule.unless.search(sentence):
            continue
        met.append((rule, match))
    if not met:
        return None
    first_type = min(met, key=lambda found: found[1].start())[0].type
    return next(found for found in met if found[0].type == first_type)
