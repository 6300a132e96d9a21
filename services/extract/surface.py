"""What a mention's surface text says about its name: cleaned text, a matching key, acronyms.

Pure functions. ``name_key`` is what two spellings must share to be the same name without fuzzy
matching: case, spacing, hyphens, apostrophes, a leading article, a possessive and titles or
honorifics do not count ("Col. Naw Bu" = "Naw Bu", "Kan-Paik Ti" = "kan paik ti").
"""

import re
import unicodedata

# Titles and honorifics that precede a person's name in English-language news about Myanmar and the
# region. Burmese honorifics (U, Daw, Ko, Ma, Sao, Saw, Nang) are stripped only when a name of at
# least two words remains: "U Thant" keeps its honorific, since "Thant" alone names too little.
_TITLES = (
    "senior general",
    "sen. gen.",
    "sen gen",
    "vice senior general",
    "lieutenant general",
    "lt. gen.",
    "lt gen",
    "major general",
    "maj. gen.",
    "maj gen",
    "brigadier general",
    "brig. gen.",
    "general",
    "gen.",
    "gen",
    "colonel",
    "col.",
    "col",
    "lt. col.",
    "lieutenant colonel",
    "lieutenant",
    "lt.",
    "major",
    "maj.",
    "captain",
    "capt.",
    "commander",
    "president",
    "prime minister",
    "foreign minister",
    "minister",
    "spokesperson",
    "spokesman",
    "chairman",
    "senator",
    "sen.",
    "mr.",
    "mr",
    "mrs.",
    "ms.",
    "dr.",
    "dr",
)
_HONORIFICS = ("u", "daw", "ko", "ma", "sao", "saw", "nang", "duwa")
_TITLE_RE = re.compile(r"^(?:(?:" + "|".join(re.escape(t) for t in _TITLES) + r")\s+)+", re.IGNORECASE)
_ARTICLE_RE = re.compile(r"^(?:the)\s+", re.IGNORECASE)
_POSSESSIVE_RE = re.compile(r"(?:['’]s|['’])$")
_TRAILING_RE = re.compile(r"[\s.,;:!?\"“”()\[\]]+$")
_LEADING_RE = re.compile(r"^[\s.,;:!?\"“”()\[\]]+")


def clean(text: str, label: str = "") -> str:
    """The name a mention's text spells: whitespace collapsed, surrounding punctuation, a leading
    "the", a trailing possessive and (for people) titles and honorifics removed."""
    name = " ".join(text.split())
    name = _LEADING_RE.sub("", _TRAILING_RE.sub("", name))
    name = _POSSESSIVE_RE.sub("", name)
    name = _ARTICLE_RE.sub("", name)
    if label == "PER":
        name = _TITLE_RE.sub("", name)
        words = name.split()
        if len(words) >= 3 and words[0].lower() in _HONORIFICS:
            name = " ".join(words[1:])
    return name.strip()


# Characters a tagged span can carry at its edges and a name never starts with; a name may end
# with a full stop ("Co.", "Jr."), so it is kept at the end.
_EDGE = " \t\n.,;:!?\"“”()[]'’‘-–—"
_END_EDGE = _EDGE.replace(".", "")


def name_bounds(text: str, start: int, end: int, label: str) -> tuple[int, int] | None:
    """The character span of the name inside a tagged span ``text[start:end]``: surrounding
    punctuation, a trailing possessive and (for people) leading titles left out, as ``clean`` leaves
    them out of the name; None when nothing with a capital letter remains. A tagger's windows and word
    pieces end spans at piece edges ("KIA’", "Col. Naw Bu"); news text names never need those."""
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _END_EDGE:
        end -= 1
    possessive = _POSSESSIVE_RE.search(text[start:end])
    if possessive and end - start > len(possessive.group()):
        end = start + possessive.start()
    while end > start and text[end - 1] in _END_EDGE:
        end -= 1
    if label == "PER":
        title = _TITLE_RE.match(text[start:end])
        if title and title.end() < end - start:
            start += title.end()
        if _TITLE_RE.fullmatch(text[start:end] + " "):
            return None
    if not looks_like_a_name(text[start:end]):
        return None
    return start, end


def fold(text: str) -> str:
    """Lower case with accents removed ("Hpākān" → "hpakan")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_key(text: str, label: str = "") -> str:
    """The spelling-insensitive key of a name: folded, letters and digits only."""
    return "".join(c for c in fold(clean(text, label)) if c.isalnum())


def is_acronym(name: str) -> bool:
    """All capitals, 2 to 10 letters, optionally hyphenated ("KIA", "NDA-K", "MNDAA")."""
    letters = name.replace("-", "")
    return 2 <= len(letters) <= 10 and letters.isalpha() and letters.isupper()


def looks_like_a_name(text: str) -> bool:
    """A mention worth linking: it has a capital letter. Lower-case words ("muse", "shan" in running
    text) are common nouns far more often than names, and are never linked."""
    return any(c.isupper() for c in text)


def initials(long_form: str) -> str:
    """The capitals an acronym of this name would use: the initial of every capitalised word or
    hyphen-joined part ("New Democratic Army-Kachin" → "NDAK")."""
    parts = re.split(r"[\s\-]+", long_form)
    return "".join(p[0] for p in parts if p and p[0].isupper())


def acronym_matches(acronym: str, long_form: str) -> bool:
    """True when the acronym's letters are the long form's initials, in order; small words ("of",
    "the") may be skipped ("MNDAA" = "Myanmar National Democratic Alliance Army")."""
    letters = acronym.replace("-", "").upper()
    caps = initials(long_form).upper()
    if not letters or not caps or letters[0] != caps[0]:
        return False
    if letters == caps:
        return True
    # Allow a capitalised word to be left out of the acronym, never a letter to be invented.
    position = 0
    for letter in letters:
        position = caps.find(letter, position)
        if position < 0:
            return False
        position += 1
    return len(caps) - len(letters) <= 1


# "Kachin Independence Army (KIA)", "Kachin Independence Army’s (KIA)", "Kachin Independence Army,
# or KIA," — the long form is a run of capitalised words (small connecting words allowed).
_LONG = r"((?:[A-Z][\w’'.-]*)(?:\s+(?:of|for|and|the|de|[A-Z][\w’'.-]*))*)"
_ACRONYM = r"([A-Z][A-Z-]{0,10}[A-Z])"
_DEFINITIONS = (
    re.compile(_LONG + r"(?:['’]s)?\s*\(\s*" + _ACRONYM + r"\s*\)"),
    re.compile(_LONG + r",\s+(?:or|also known as|known as)\s+(?:the\s+)?" + _ACRONYM + r"\b"),
)


def acronym_definitions(text: str) -> dict[str, str]:
    """Acronyms the text defines, mapped to their long forms: {"KIA": "Kachin Independence Army"}."""
    found: dict[str, str] = {}
    for pattern in _DEFINITIONS:
        for match in pattern.finditer(text):
            long_form, acronym = clean(match.group(1)), match.group(2)
            words = long_form.split()
            # The pattern is greedy to the left: drop leading words until the initials fit.
            while words and not acronym_matches(acronym, " ".join(words)):
                words = words[1:]
            if len(words) >= 2:
                found.setdefault(acronym, " ".join(words))
    return found
