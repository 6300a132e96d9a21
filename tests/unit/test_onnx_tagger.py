"""Newswire's own NER model as shipped: it loads offline, windows long texts, and returns exact spans."""

import hashlib
import json
import re
from pathlib import Path

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


@pytest.mark.parametrize(
    ("labels", "words", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [0, 1, 2, 3], [(0, 2, "PER"), (3, 4, "LOC")]),
        # An I- with no B- starts an entity; a type change ends one.
        (["I-ORG", "I-ORG", "I-LOC"], [0, 1, 2], [(0, 2, "ORG"), (2, 3, "LOC")]),
        # Entities grow to whole words: "Kan ##pai ##ti" labelled only on its middle piece.
        (["O", "B-LOC", "O", "O"], [0, 0, 0, 1], [(0, 3, "LOC")]),
        (["B-PER", "B-PER"], [0, 1], [(0, 1, "PER"), (1, 2, "PER")]),
        (["O", "O"], [0, 1], []),
    ],
)
def test_decode(labels: list[str], words: list[int | None], spans: list[tuple[int, int, str]]) -> None:
    found = decode(labels, [0.9] * len(labels), words)
    assert [(a, b, kind) for a, b, kind, _ in found] == spans
    assert all(score == pytest.approx(0.9) for *_, score in found)


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


def test_long_text_is_windowed_and_every_entity_found_once(tagger: OnnxTagger) -> None:
    sentence = "Aung San Suu Kyi met officials of the United Nations in Geneva on Monday. "
    filler = "The talks went on for many hours and nothing was agreed by the end of the day. "
    text = (sentence + filler * 3) * 8  # about 1,000 word pieces: several 256-piece windows
    assert len(tagger.windows(text)["input_ids"]) > 3

    mentions = tagger.tag(text, "body")

    period = len(sentence + filler * 3)
    expected = [
        (i * period + text.index(name), i * period + text.index(name) + len(name), label)
        for i in range(8)
        for name, label in (("Aung San Suu Kyi", "PER"), ("United Nations", "ORG"), ("Geneva", "LOC"))
    ]
    assert [(m.start, m.end, m.label) for m in mentions] == expected
    assert all(text[m.start : m.end] == m.text for m in mentions)


def test_empty_text_has_no_mentions(tagger: OnnxTagger) -> None:
    assert tagger.tag("  \n", "title") == []


def test_missing_model_folder_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no-such-model"):
        OnnxTagger(tmp_path / "no-such-model")


def test_onnx_backend_loads_the_shipped_model_unless_given_another() -> None:
    tagger = load_tagger("onnx", "dslim/bert-base-NER", fallback=False, stride=16, min_score=0.5)
    assert isinstance(tagger, OnnxTagger)
