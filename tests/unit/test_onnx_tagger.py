"""Newswire's own NER model as shipped: it loads offline, windows long texts, and returns exact spans."""

import hashlib
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from services.extract.casing import LOWER, MIXED, TITLE, UPPER, case_type
from services.extract.onnx_tagger import MODEL_DIR, OnnxTagger, decode
from services.extract.taggers import ModelLoadError, load_tagger


@pytest.fixture(scope="module")
def tagger() -> OnnxTagger:
    return OnnxTagger(MODEL_DIR, stride=32, min_score=0.5, threads=1)


@pytest.mark.parametrize(
    ("piece", "kind"),
    [
        ("Myitkyina", TITLE),
        ("KIA", UPPER),
        ("junta", LOWER),
        ("iPhone", MIXED),
        ("2024", LOWER),
        ("I", TITLE),
        ("NDA-K", UPPER),
        ("’s", LOWER),
        ("", LOWER),
    ],
)
def test_case_type(piece: str, kind: int) -> None:
    assert case_type(piece) == kind


LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def _probs(labels: list[str], sure: float = 0.9) -> np.ndarray:
    """Each piece ``sure`` of its label, the rest spread evenly."""
    rows = np.full((len(labels), len(LABELS)), (1 - sure) / (len(LABELS) - 1))
    for i, label in enumerate(labels):
        rows[i, LABELS.index(label)] = sure
    return rows


@pytest.mark.parametrize(
    ("labels", "words", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [0, 1, 2, 3], [(0, 2, "PER"), (3, 4, "LOC")]),
        # An I- with no B- starts an entity.
        (["O", "I-ORG", "I-ORG"], [0, 1, 2], [(1, 3, "ORG")]),
        # One entity takes the type with most mass: "Kachin Independence Army" is one organisation.
        (["B-LOC", "I-ORG", "I-ORG"], [0, 1, 2], [(0, 3, "ORG")]),
        # Entities grow to whole words: "Kan ##pai ##ti" labelled only on its middle piece.
        (["O", "B-LOC", "O", "O"], [0, 0, 0, 1], [(0, 3, "LOC")]),
        (["B-PER", "B-PER"], [0, 1], [(0, 1, "PER"), (1, 2, "PER")]),
        (["O", "O"], [0, 1], []),
    ],
)
def test_decode(labels: list[str], words: list[int | None], spans: list[tuple[int, int, str]]) -> None:
    found = decode(_probs(labels), LABELS, words)
    assert [(a, b, kind) for a, b, kind, _ in found] == spans
    assert all(0.5 < score <= 1 for *_, score in found)


def test_a_borderline_begin_after_its_own_type_continues_the_name() -> None:
    # "Aung San Suu Kyi" with "San" at B-PER 0.61, I-PER 0.37: one person, not "Aung" + "San Suu Kyi".
    probs = _probs(["B-PER", "B-PER", "I-PER"])
    probs[1] = [0.02, 0.61, 0.37, 0, 0, 0, 0]
    assert [(a, b, kind) for a, b, kind, _ in decode(probs, LABELS, [0, 1, 2])] == [(0, 3, "PER")]
    # A confident begin still starts a second name, and a borderline one of another type does too.
    probs[1] = [0.02, 0.9, 0.08, 0, 0, 0, 0]
    assert len(decode(probs, LABELS, [0, 1, 2])) == 2
    probs[1] = [0.02, 0, 0, 0, 0, 0.61, 0.37]
    probs[2] = [0.02, 0, 0, 0, 0, 0.08, 0.9]
    assert [kind for *_, kind, _ in decode(probs, LABELS, [0, 1, 2])] == ["PER", "LOC"]


def test_decode_leaves_out_pieces_more_likely_outside() -> None:
    probs = _probs(["B-LOC", "O"])
    probs[0] = [0.55, 0, 0, 0, 0, 0.45, 0]  # a place at 45 %: outside wins
    assert decode(probs, LABELS, [0, 1]) == []


def test_shipped_model_matches_the_checksum_in_its_card() -> None:
    card = (MODEL_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    stated = re.search(r"sha256 `([0-9a-f]{64})`", card)
    assert stated is not None, "MODEL_CARD.md must state the model file's sha256"
    actual = hashlib.sha256((MODEL_DIR / "model.onnx").read_bytes()).hexdigest()
    assert actual == stated.group(1)
    assert json.loads((MODEL_DIR / "config.json").read_text(encoding="utf-8"))["model_sha256"] == actual


def test_tags_people_organisations_and_places_with_exact_spans(tagger: OnnxTagger) -> None:
    text = "Aung San Suu Kyi met officials of the United Nations in Geneva on Monday."

    found = [(m.text, m.label) for m in tagger.tag(text, "body")]

    assert found == [("Aung San Suu Kyi", "PER"), ("United Nations", "ORG"), ("Geneva", "LOC")]
    assert tagger.info.backend == "transformers" and tagger.info.model.startswith("newswire-ner")


class _RuleSession:
    """Stands in for the ONNX session in the windowing test: labels the pieces of "Myitkyina" as a
    place ("my" B-LOC, "##it ##ky ##ina" I-LOC) and everything else O, whatever the window."""

    def __init__(self, tagger: OnnxTagger) -> None:
        vocab = tagger._tokenizer.get_vocab()
        self.begin = vocab["my"]
        self.inside = [vocab[p] for p in ("##it", "##ky", "##ina")]
        self.masks: list[np.ndarray] = []

    def run(self, names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.masks.append(feeds["attention_mask"])
        ids = feeds["input_ids"]
        logits = np.zeros((*ids.shape, 7), dtype=np.float32)
        logits[..., 0] = 5.0
        logits[ids == self.begin] = [0, 0, 0, 0, 0, 5.0, 0]
        logits[np.isin(ids, self.inside)] = [0, 0, 0, 0, 0, 0, 5.0]
        return [logits]


def test_windows_overlap_and_each_entity_is_reported_once_with_exact_spans() -> None:
    # 16-piece windows overlapping by 4: most names fall in two windows or are cut by one's edge.
    tagger = OnnxTagger(MODEL_DIR, stride=4, min_score=0.5, threads=1, max_length=16)
    tagger._session = _RuleSession(tagger)
    text = " ".join(f"the road from Myitkyina to town {i} was closed" for i in range(12))
    assert len(tagger.windows(text)["input_ids"]) > 8

    mentions = tagger.tag(text, "body")

    starts = [i for i in range(len(text)) if text.startswith("Myitkyina", i)]
    assert [(m.start, m.end, m.text, m.label) for m in mentions] == [
        (s, s + len("Myitkyina"), "Myitkyina", "LOC") for s in starts
    ]


def test_no_padding_is_run_through_the_model() -> None:
    """The last window, shorter than the others, runs at its own length: padding costs as much as text."""
    tagger = OnnxTagger(MODEL_DIR, stride=4, min_score=0.5, threads=1, max_length=16)
    session = tagger._session = _RuleSession(tagger)
    text = " ".join(f"the road from Myitkyina to town {i} was closed" for i in range(12)) + " near Myitkyina"
    windows = tagger.windows(text)
    assert windows["attention_mask"][-1].sum() < 16, "the test needs a short last window"

    mentions = tagger.tag(text, "body")

    assert [len(mask) for mask in session.masks] == [len(windows["input_ids"]) - 1, 1]
    assert all(mask.all() for mask in session.masks)
    assert sum(len(mask[0]) for mask in session.masks[1:]) == windows["attention_mask"][-1].sum()
    assert mentions[-1].text == "Myitkyina" and mentions[-1].end == len(text)


def test_long_text_through_the_real_model_gives_exact_non_overlapping_spans(tagger: OnnxTagger) -> None:
    sentence = "Aung San Suu Kyi met officials of the United Nations in Geneva on Monday. "
    filler = "The talks went on for many hours and nothing was agreed by the end of the day. "
    text = (sentence + filler * 3) * 10  # about 750 word pieces: four overlapping windows
    assert len(tagger.windows(text)["input_ids"]) >= 3

    mentions = tagger.tag(text, "body")

    assert all(text[m.start : m.end] == m.text for m in mentions)
    assert all(a.end <= b.start for a, b in itertools.pairwise(mentions))
    assert [m.start for m in mentions if m.text == "Geneva"] == [
        i for i in range(len(text)) if text.startswith("Geneva", i)
    ]


def test_empty_text_has_no_mentions(tagger: OnnxTagger) -> None:
    assert tagger.tag("  \n", "title") == []


def test_missing_model_folder_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no-such-model"):
        OnnxTagger(tmp_path / "no-such-model")


def test_onnx_backend_loads_the_shipped_model_unless_given_another() -> None:
    tagger = load_tagger("onnx", "dslim/bert-base-NER", fallback=False, stride=16, min_score=0.5)
    assert isinstance(tagger, OnnxTagger)
