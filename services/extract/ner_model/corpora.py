"""Read the openly licensed NER corpora in ``shared/data/ner`` into one shape: documents of sentences of
(token, BIO tag) pairs over PER, ORG and LOC, and, for evaluation, plain text with character spans.

Conventions follow CoNLL's: a named entity is a proper-noun phrase without a leading article, countries
and cities are places even where they act ("North Korea said"). GUM marks every mention (named, nominal,
pronominal) with eleven types and no "named" flag, so a GUM mention counts as named when its syntactic
head is a proper noun (the corpus README's rule); MISC is dropped because only WikiGold has it.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
TYPES = ("PER", "ORG", "LOC")

# GUM's entity types onto ours; its other types (event, time, abstract...) are not named entities here.
_GUM_TYPES = {"person": "PER", "organization": "ORG", "place": "LOC"}
# Words that join the proper nouns of one organisation or place name ("Bank of the West", "Newfoundland
# and Labrador", "People's Liberation Army"); at most two in a row.
_JOINERS = {"of", "and", "&", "for", "the", "de", "du", "la", "on", "-", "–", "'s", "’s"}
_NOT_NAME = {"DET", "PRON", "PUNCT", "ADP", "CCONJ", "SCONJ", "PART", "AUX"}
# Titles before a person's name, not part of it in CoNLL ("Professor Eastman", "Gen. Prelogar").
_TITLE_WORDS = """
    mr mrs ms miss dr prof professor president vice general gen secretary sen senator gov governor
    king queen emperor empress lord lady sir dame judge justice chief col colonel captain capt
    minister prime premier rep representative pope rev reverend father sister brother lt lieutenant
    major sgt sergeant director chairman chairwoman mayor prince princess duke count saint st dean
    officer agent coach commissioner ambassador deputy attorney administrator mp spokesman
    spokeswoman spokesperson leader chancellor councillor councilman congressman congresswoman ceo
    editor founder manager executive analyst
    """
_TITLES = frozenset(_TITLE_WORDS.split())
_OPEN = re.compile(r"\((\d+)-([a-z]+)-([^()]*)")
_CLOSE = re.compile(r"(\d+)\)")


@dataclass
class Sentence:
    tokens: list[str]
    tags: list[str]
    # Whether a space follows each token in the original text (CoNLL files without this say yes).
    spaces: list[bool] = field(default_factory=list)


@dataclass
class Document:
    name: str
    source: str
    genre: str
    sentences: list[Sentence]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


def bio_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """Token spans ``(first, last + 1, type)`` from BIO or IO tags (an ``I-`` after another type or ``O``
    starts an entity, as in CoNLL's IOB1)."""
    spans: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        if start >= 0 and (prefix != "I" or label != kind):
            spans.append((start, i, kind))
            start = -1
        if prefix == "B" or (prefix == "I" and start < 0):
            start, kind = i, label
    return spans


def to_bio(length: int, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    tags = ["O"] * length
    for first, end, label in spans:
        tags[first] = f"B-{label}"
        for i in range(first + 1, end):
            tags[i] = f"I-{label}"
    return tags


def _keep(tag: str) -> str:
    """A tag of ours, or ``O`` for types we do not predict (MISC)."""
    prefix, _, label = tag.partition("-")
    return tag if label in TYPES and prefix in {"B", "I"} else "O"


def read_conll(path: Path, source: str, genre: str, sep: str | None = None) -> list[Document]:
    """A CoNLL file of ``token<sep>tag`` lines; ``-DOCSTART-`` lines (WikiGold) split documents, and a
    file without them is one document per sentence group as given (BTC: one tweet per sentence)."""
    docs: list[Document] = []
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []

    def end_sentence() -> None:
        if tokens:
            normal = to_bio(len(tokens), bio_spans([_keep(t) for t in tags]))
            sentences.append(Sentence(list(tokens), normal, [True] * len(tokens)))
            tokens.clear()
            tags.clear()

    def end_document() -> None:
        end_sentence()
        if sentences:
            docs.append(Document(f"{path.stem}-{len(docs)}", source, genre, list(sentences)))
            sentences.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            end_sentence()
            continue
        token, tag = line.rsplit(sep, 1) if sep else line.rsplit(None, 1)
        if token == "-DOCSTART-":
            end_document()
            continue
        tokens.append(token.strip())
        tags.append(tag.strip())
    end_document()
    return docs


def _entity_events(misc: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The mentions a token opens (id, GUM type, Wikipedia identity or "") and the ids it closes, from
    MISC ``Entity=`` (CorefUD bracket notation ``GRP-etype-infstat-salience-centering-minspan-link-identity``:
    ``(7-organization-...`` opens, ``7)`` closes, ``(5-time-...)`` does both)."""
    value = next((part[7:] for part in misc.split("|") if part.startswith("Entity=")), "")
    opened: list[tuple[str, str, str]] = []
    closed: list[str] = []
    i = 0
    while i < len(value):
        if m := _OPEN.match(value, i):
            rest = m.group(3).split("-", 5)
            opened.append((m.group(1), m.group(2), rest[5] if len(rest) == 6 else ""))
            i = m.end()
            if i < len(value) and value[i] == ")":
                closed.append(m.group(1))
                i += 1
        elif m := _CLOSE.match(value, i):
            closed.append(m.group(1))
            i = m.end()
        else:
            i += 1
    return opened, closed


@dataclass
class _Token:
    form: str
    upos: str
    xpos: str
    head: int
    space: bool
    misc: str


def _name(rows: list[_Token], first: int, end: int, head: int, label: str) -> tuple[int, int] | None:
    """The name inside a GUM mention, CoNLL-style: the run of proper nouns around its head (for places
    and organisations also numbers and joining words between them), without a person's titles. GUM's
    mentions hold articles, possessive 's, appositions and relative clauses ("Mary Chaworth, whom he
    met at school"), which CoNLL and spaCy leave out of a name."""

    def proper(i: int) -> bool:
        # Names hold capitalised adjectives and verbs too ("United States", "Heaven Sent Gaming").
        row = rows[i]
        if row.upos == "PROPN":
            return True
        if row.upos in _NOT_NAME:
            return False
        return row.form[:1].isupper() or (label != "PER" and row.upos == "NUM")

    def joiner(i: int) -> bool:
        return label != "PER" and rows[i].form.lower() in _JOINERS

    def title(i: int) -> bool:
        return label == "PER" and rows[i].form.lower().rstrip(".") in _TITLES

    if title(head):  # "the Secretary", "Ottawa New Democrat MP": a role, not a name
        return None
    start, stop = head, head + 1
    while True:
        j = start - 1
        while j >= first and joiner(j) and start - 1 - j < 2:
            j -= 1
        # Stop at a title: "NASA Administrator Charles Bolden" names "Charles Bolden".
        if j >= first and proper(j) and not title(j):
            start = j
        else:
            break
    while True:
        j = stop
        while j < end and joiner(j) and j - stop < 2:
            j += 1
        if j < end and proper(j):
            stop = j + 1
        else:
            break
    return start, stop


def _gum_sentence(rows: list[_Token], places: set[str]) -> Sentence:
    mentions: list[tuple[int, int, str, str]] = []
    open_stack: dict[str, list[tuple[int, str, str]]] = {}
    for i, row in enumerate(rows):
        opened, closed = _entity_events(row.misc)
        for ident, kind, identity in opened:
            open_stack.setdefault(ident, []).append((i, kind, identity))
        for ident in closed:
            if open_stack.get(ident):
                first, kind, identity = open_stack[ident].pop()
                mentions.append((first, i + 1, kind, identity))
    spans: list[tuple[int, int, str]] = []
    for first, end, kind, identity in mentions:
        # GUM types a country by its role ("North Korea said" is an organization); CoNLL, spaCy's GPE and
        # news analysts call it a place, so a named organization that GUM also calls a place is a place.
        label = "LOC" if kind == "organization" and identity in places else _GUM_TYPES.get(kind)
        if label is None:
            continue
        # The syntactic head: the one token whose head lies outside the mention.
        heads = [i for i in range(first, end) if not first <= rows[i].head < end]
        if len(heads) != 1 or rows[heads[0]].upos != "PROPN":
            continue
        # Plural "persons" are groups ("Americans", "Democrats"): CoNLL's MISC, not people.
        if label == "PER" and rows[heads[0]].xpos == "NNPS":
            continue
        name = _name(rows, first, end, heads[0], label)
        if name is not None:
            spans.append((*name, label))
    # Nested named mentions ("[University of [California]]"): keep the outermost, as CoNLL does.
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            chosen.append(span)
    tokens = [r.form for r in rows]
    return Sentence(tokens, to_bio(len(tokens), chosen), [r.space for r in rows])


def _gum_rows(path: Path) -> list[list[_Token]]:
    sentences: list[list[_Token]] = []
    rows: list[_Token] = []
    # A multiword token ("Korea's" = "Korea" + "'s") carries SpaceAfter on its range line.
    joined_until, joined = 0, False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if rows:
                sentences.append(rows)
                rows = []
            joined_until = 0
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if "-" in cols[0]:
            joined_until = int(cols[0].split("-")[1])
            joined = "SpaceAfter=No" in cols[9].split("|")
            continue
        if not cols[0].isdigit():  # empty nodes ("8.1")
            continue
        if int(cols[0]) != len(rows) + 1:
            raise ValueError(f"{path}: token ids out of order at {cols[0]}")
        misc = cols[9]
        if int(cols[0]) < joined_until:
            space = False
        elif int(cols[0]) == joined_until:
            space = not joined
        else:
            space = "SpaceAfter=No" not in misc.split("|")
        # Heads are 1-based with 0 for the root; stored 0-based, so the root's is -1.
        rows.append(_Token(cols[1], cols[3], cols[4], int(cols[6]) - 1, space, misc))
    return sentences


def gum_places(paths: Iterable[Path]) -> set[str]:
    """Wikipedia identities that GUM annotates as a place somewhere in the corpus."""
    places: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "Entity=" in line and not line.startswith("#"):
                places |= {identity for _, kind, identity in _entity_events(line.split("\t")[-1])[0] if kind == "place"}
    places.discard("")
    return places


def read_gum(path: Path, places: set[str]) -> Document:
    """One GUM CoNLL-U document (mentions never cross sentences in GUM's dependency files)."""
    genre = path.stem.split("_")[1]
    return Document(path.stem, "gum", genre, [_gum_sentence(rows, places) for rows in _gum_rows(path)])


def gum_splits(splits_md: Path) -> dict[str, str]:
    """Document name -> split, from GUM's ``splits.md`` (documents not listed are training data)."""
    split = ""
    out: dict[str, str] = {}
    for line in splits_md.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            split = line[3:].strip()
        elif line.strip().startswith("* ") and split:
            out[line.strip()[2:].strip()] = split
    return out


def load_gum(root: Path, split: str) -> list[Document]:
    splits = gum_splits(root / "splits.md")
    paths = sorted((root / "conllu").glob("GUM_*.conllu"))
    places = gum_places(paths)
    return [read_gum(path, places) for path in paths if splits.get(path.stem, "train") == split]


def load_training(
    data: Path, with_btc: bool = True, silver: int = 0, seed: int = 7, hold_out: frozenset[str] = frozenset()
) -> list[Document]:
    """Everything we train on: GUM's train split, all of WikiGold, (optionally) all of BTC and
    ``silver`` documents of the Myanmar news domain built from the project's gazetteers, without
    sentences that name any of ``hold_out``."""
    from services.extract.ner_model.silver import silver_documents

    docs = load_gum(data / "gum", "train")
    docs += silver_documents(silver, seed, hold_out=hold_out) if silver else []
    docs += read_conll(data / "wikigold" / "wikigold.conll.txt", "wikigold", "wiki", sep=" ")
    if with_btc:
        for part in "abefgh":
            docs += read_conll(data / "btc" / f"{part}.conll", "btc", f"twitter-{part}", sep="\t")
    return docs


def document_text(doc: Document) -> tuple[str, list[Span]]:
    """The document as plain text (sentences on their own lines, tokens spaced as in the original) with
    its entities as character spans: what a tagger is given and what it must find."""
    parts: list[str] = []
    spans: list[Span] = []
    offset = 0
    for sentence in doc.sentences:
        starts: list[int] = []
        ends: list[int] = []
        for token, space in zip(sentence.tokens, sentence.spaces or [True] * len(sentence.tokens), strict=True):
            starts.append(offset)
            parts.append(token)
            offset += len(token)
            ends.append(offset)
            if space:
                parts.append(" ")
                offset += 1
        spans += [Span(starts[a], ends[b - 1], label) for a, b, label in bio_spans(sentence.tags)]
        parts.append("\n")
        offset += 1
    return "".join(parts), spans


def iter_sentences(docs: Iterable[Document]) -> Iterator[Sentence]:
    for doc in docs:
        yield from doc.sentences
