"""Newswire's own news NER model, run with ONNX Runtime and the transformers tokenizer; it ships in the
repository (``models/newswire-ner``) and loads with no model hub (``NEWSWIRE_NER_BACKEND=onnx``).

The model is a ``BertForTokenClassification`` exported to int8 ONNX whose token types carry each word
piece's letter case (:mod:`services.extract.casing`). A whole text is cut into windows of at most
``max_length`` pieces that overlap by ``stride`` pieces; each piece takes its label from the window in
which it lies farthest from an edge, so an entity cut by one window's end is read whole from the next.
"""

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from services.common.schema import EntityLabel, Mention, Tagger, TextField
from services.extract.casing import case_type
from services.extract.surface import name_bounds
from services.extract.taggers import ModelLoadError

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "models" / "newswire-ner"
MODEL_NAME = "newswire-ner"
# A piece that follows one of its own type joins its entity unless its B- probability reaches this.
# 0.75 and 0.9 both raised every eval-ner set by 0.3 to 1.7 F1 points (0.75 slightly more on GUM test).
JOIN_BELOW = 0.75
_TYPES: dict[str, EntityLabel] = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC"}


def decode(probs: np.ndarray, labels: list[str], words: list[int | None]) -> list[tuple[int, int, str, float]]:
    """Entities ``(first, last + 1, type, score)`` over pieces, from each piece's label probabilities
    (``probs``: pieces x labels, in the order of ``labels``).

    A piece belongs to an entity when its ``B-`` and ``I-`` probabilities together outweigh ``O``; it
    starts a new entity unless it follows one and its ``I-`` mass outweighs its ``B-`` mass, or it
    follows a piece of the same type and is not sure it begins a new one (``B-`` under
    ``JOIN_BELOW``): two names of one type side by side with nothing between them are rare in news,
    while a name split by a borderline ``B-`` ("Aung" + "San Suu Kyi", ``B-PER`` 0.61 on "San") is
    the model's commonest slip. The entity's
    type is the one with most probability summed over its pieces, so "Kachin Independence Army", whose
    first word alone looks like a place, stays one organisation instead of a place and an organisation.
    An entity never ends or starts inside a word (pieces with the same word index): it grows to the
    whole word. The score is the mean probability that its pieces belong to an entity."""
    outside = labels.index("O")
    begins = [i for i, label in enumerate(labels) if label.startswith("B-")]
    insides = [i for i, label in enumerate(labels) if label.startswith("I-")]
    kinds = sorted({label[2:] for label in labels if label != "O"})
    by_kind = {k: [i for i, label in enumerate(labels) if label[2:] == k] for k in kinds}
    n = len(probs)
    inside = [bool(probs[i, outside] < 0.5) for i in range(n)]
    kind_at = [max(kinds, key=lambda k: float(probs[i, by_kind[k]].sum())) for i in range(n)]
    spans: list[list[int]] = []
    for i in range(n):
        if not inside[i]:
            continue
        begin = probs[i, begins].sum()
        continues = (
            bool(spans)
            and spans[-1][1] == i
            and (probs[i, insides].sum() > begin or (kind_at[i] == kind_at[i - 1] and begin < JOIN_BELOW))
        )
        if continues:
            spans[-1][1] = i + 1
        else:
            spans.append([i, i + 1])
    out: list[tuple[int, int, str, float]] = []
    for first, end in spans:
        mass = {k: float(probs[first:end][:, idx].sum()) for k, idx in by_kind.items()}
        kind = max(mass, key=lambda k: mass[k])
        score = float(1.0 - probs[first:end, outside].mean())
        while first > 0 and words[first] is not None and words[first - 1] == words[first]:
            first -= 1
        while end < n and words[end] is not None and words[end] == words[end - 1]:
            end += 1
        if out and first < out[-1][1]:  # grown into the previous entity's word: one entity
            prev = out.pop()
            first, kind, score = prev[0], prev[2], (prev[3] + score) / 2
        out.append((first, end, kind, score))
    return out


class OnnxTagger:
    """Tags text with the shipped (or another exported) ONNX model; ``threads`` caps ONNX Runtime's
    intra-op threads (0: its default, one per core); ``max_length`` overrides the window size."""

    def __init__(
        self,
        model_dir: Path = MODEL_DIR,
        stride: int = 32,
        min_score: float = 0.5,
        threads: int = 0,
        max_length: int | None = None,
    ) -> None:
        try:
            import onnxruntime
            from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf, NoSuchFile

            # The fast tokenizer class itself, not AutoTokenizer: AutoTokenizer imports torch, which
            # would cost seconds of start-up and hundreds of megabytes per worker for nothing.
            from transformers import PreTrainedTokenizerFast
        except ImportError as exc:
            raise ModelLoadError(f"Newswire's ONNX NER model needs onnxruntime and transformers: {exc}") from exc
        try:
            config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
        except (OSError, ValueError, KeyError, Fail, InvalidGraph, InvalidProtobuf, NoSuchFile) as exc:
            raise ModelLoadError(f"cannot load Newswire's ONNX NER model from {model_dir}: {exc}") from exc
        if not getattr(tokenizer, "is_fast", False):
            raise ModelLoadError(f"{model_dir} has no fast tokenizer, which windowing needs")
        self._tokenizer = tokenizer
        self._session = session
        self._labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
        # Window size: the one the model was exported for, unless the caller wants shorter windows.
        self._max_length = max_length or int(config.get("newswire_max_length", 256))
        # Overlap must leave each window room to move forward.
        self._stride = min(stride, self._max_length // 4)
        self._min_score = min_score
        self.info = Tagger(backend="transformers", model=config.get("newswire_model", MODEL_NAME))

    def windows(self, text: str) -> Any:
        """The tokenizer's overlapping windows over ``text``, with offsets and word indices."""
        return self._tokenizer(
            text,
            max_length=self._max_length,
            truncation=True,
            stride=self._stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="np",
        )

    def _logits(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        """The model's logits for every window. Only the last window can be shorter than the rest, and
        padding it to their length costs as much as filling it: it runs apart, at its own length."""
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        last = int(mask[-1].sum())
        if len(ids) == 1 or last == ids.shape[1]:
            (logits,) = self._session.run(["logits"], {k: v.astype(np.int64) for k, v in feeds.items()})
            return np.asarray(logits)
        (full,) = self._session.run(["logits"], {k: v[:-1].astype(np.int64) for k, v in feeds.items()})
        (tail,) = self._session.run(["logits"], {k: v[-1:, :last].astype(np.int64) for k, v in feeds.items()})
        logits = np.zeros((len(ids), ids.shape[1], full.shape[-1]), dtype=full.dtype)
        logits[:-1] = full
        logits[-1, :last] = tail[0]
        return logits

    def tag(self, text: str, field: TextField) -> list[Mention]:
        if not text.strip():
            return []
        enc = self.windows(text)
        offsets = enc["offset_mapping"]
        types = np.zeros_like(enc["input_ids"])
        # Best (margin, window, position) for each piece of the text, keyed by its character span.
        best: dict[tuple[int, int], tuple[int, int, int]] = {}
        word_of: dict[tuple[int, int], int] = {}
        for w in range(len(enc["input_ids"])):
            words = enc.word_ids(w)
            real = [p for p, word in enumerate(words) if word is not None]
            if not real:
                continue
            low, high = real[0], real[-1]
            for p in real:
                start, end = int(offsets[w, p, 0]), int(offsets[w, p, 1])
                types[w, p] = case_type(text[start:end])
                margin = min(p - low, high - p)
                key = (start, end)
                if key not in best or margin > best[key][0]:
                    best[key] = (margin, w, p)
                    word_of[key] = int(words[p])
        logits = self._logits(enc["input_ids"], enc["attention_mask"], types)
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probs = shifted / shifted.sum(axis=-1, keepdims=True)
        keys = sorted(best)
        rows = np.stack([probs[best[key][1], best[key][2]] for key in keys])
        mentions = []
        for first, end, kind, score in decode(rows, self._labels, [word_of[key] for key in keys]):
            if score < self._min_score or kind not in _TYPES:
                continue
            bounds = name_bounds(text, keys[first][0], keys[end - 1][1], kind)
            if bounds is None:
                continue
            start, stop = bounds
            mentions.append(
                Mention(field=field, start=start, end=stop, text=text[start:stop], label=_TYPES[kind], score=score)
            )
        return mentions
