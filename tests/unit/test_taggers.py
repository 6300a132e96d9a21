"""The NER backends, through the real transformers and spaCy loading code."""

import logging
from pathlib import Path

import pytest

from services.extract.taggers import ModelLoadError, SpacyTagger, TransformersTagger, load_tagger
from tests.tiny_ner import build

FILLER = "the town fell " * 12  # 36 tokens: longer than the tiny model's 16-token window.


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("tiny-ner") / "model", max_length=16)


def test_transformers_finds_entities_in_every_window_with_exact_spans(tiny_model: Path) -> None:
    text = "naw bu " + FILLER + "kachin army " + FILLER + "myitkyina"
    tagger = TransformersTagger(str(tiny_model), stride=4, min_score=0.5)

    mentions = tagger.tag(text, "body")

    found = [(m.text, m.label, m.start, m.end) for m in mentions]
    expected = [
        ("naw bu", "PER", 0, 6),
        ("kachin army", "ORG", text.index("kachin"), text.index("kachin") + len("kachin army")),
        ("myitkyina", "LOC", text.index("myitkyina"), len(text)),
    ]
    assert found == expected
    assert all(text[m.start : m.end] == m.text for m in mentions)
    assert tagger.info.backend == "transformers" and tagger.info.model == str(tiny_model)


def test_transformers_reports_an_entity_in_overlapping_windows_once(tiny_model: Path) -> None:
    # With a wide stride most tokens fall in two windows; each entity must still be reported once.
    text = " ".join(["myitkyina the town"] * 20)
    mentions = TransformersTagger(str(tiny_model), stride=6, min_score=0.5).tag(text, "title")

    assert [m.start for m in mentions] == [i * len("myitkyina the town ") for i in range(20)]
    assert {m.field for m in mentions} == {"title"}


def test_transformers_drops_mentions_below_the_score_threshold(tiny_model: Path) -> None:
    assert TransformersTagger(str(tiny_model), stride=4, min_score=0.999).tag("naw bu", "body") == []


def test_missing_model_falls_back_to_newswires_own_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = str(tmp_path / "no-such-model")
    with caplog.at_level(logging.WARNING):
        tagger = load_tagger("transformers", missing, fallback=True, stride=16, min_score=0.5)

    assert tagger.info.backend == "transformers" and tagger.info.model.startswith("newswire-ner")
    warned = [r for r in caplog.records if "Newswire's own offline model" in r.getMessage()]
    assert [r.__dict__["model"] for r in warned] == [missing]
    # It really tags: the shipped model finds the organisation and the place.
    found = {(m.text, m.label) for m in tagger.tag("The Kachin Independence Army captured Myitkyina.", "body")}
    assert {("Kachin Independence Army", "ORG"), ("Myitkyina", "LOC")} <= found


def test_missing_model_is_an_error_when_fallback_is_forbidden(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no-such-model"):
        load_tagger("transformers", str(tmp_path / "no-such-model"), fallback=False, stride=16, min_score=0.5)


def test_hub_id_with_hf_hub_offline_fails_without_touching_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # Unit tests refuse sockets: reaching this error proves the offline setting was honoured.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="newswire-test/not-a-real-model"):
        TransformersTagger("newswire-test/not-a-real-model", stride=16, min_score=0.5)


def test_spacy_tags_people_organisations_and_places_with_exact_spans() -> None:
    text = (
        "Aung San Suu Kyi met officials of the United Nations in Bangkok on Monday, "
        "a spokesman for the Kachin Independence Army said."
    )
    mentions = SpacyTagger().tag(text, "body")
    by_text = {m.text: m.label for m in mentions}

    assert by_text.get("Aung San Suu Kyi") == "PER"
    assert by_text.get("the United Nations", by_text.get("United Nations")) == "ORG"
    assert by_text.get("Bangkok") == "LOC"
    assert "Monday" not in by_text  # Dates are not named entities.
    assert all(text[m.start : m.end] == m.text for m in mentions)
