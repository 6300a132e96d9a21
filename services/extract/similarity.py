"""How alike two name keys are, by spelling and by sound: the fuzzy half of entity linking.

Transliterations of Burmese and Kachin names vary in ways no alias list foresees ("Kan Paik Ti",
"Kanpaiti", "Kanpiketi", "Kanpaikti"). Edit distance alone confuses short names that differ by a
letter or two ("Bhamo"/"Bago"); sound alone merges names that merely share consonants. The score is
the mean of the two, in 0..100: the indel similarity of the keys (rapidfuzz) and of their Metaphone
codes (jellyfish).

``MATCH_THRESHOLD`` was measured, not guessed: ``bench/extract/threshold.py`` sweeps it over the
labelled pairs in ``tests/gold/name_pairs.tsv`` (variants of one name, and traps that must stay
apart) and the value chosen is the lowest that keeps precision at 1.0 there; the sweep and its table
are in docs/linking.md, and a unit test holds the threshold to that.
"""

import jellyfish
from rapidfuzz import fuzz

MATCH_THRESHOLD = 82.0
# Keys shorter than this are never fuzzy-matched: too little to tell a variant from another name.
MIN_FUZZY_LENGTH = 5


def score(a: str, b: str) -> float:
    """Similarity of two name keys (see :func:`services.extract.surface.name_key`), 0..100."""
    if a == b:
        return 100.0
    if not a or not b:
        return 0.0
    spelling = fuzz.ratio(a, b)
    sound = fuzz.ratio(jellyfish.metaphone(a), jellyfish.metaphone(b))
    return (spelling + sound) / 2.0


def similar(a: str, b: str, threshold: float = MATCH_THRESHOLD) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < MIN_FUZZY_LENGTH:
        return False
    # Lengths far apart are different names however alike their prefixes ("shan"/"shanstatearmy").
    if abs(len(a) - len(b)) > max(2, len(a) // 3):
        return False
    return score(a, b) >= threshold
