from typing import Literal

from pydantic import Field

from services.common.settings import CommonSettings


class StoreSettings(CommonSettings):
    db_url: str = Field(
        "sqlite:///data/newswire.db",
        description="SQLAlchemy URL: sqlite:///path (embedded default) or postgresql://user@host/db.",
    )
    store_batch_size: int = Field(
        1000,
        ge=1,
        le=10_000,
        description="Most tagged messages read, and upserted in one transaction, at a time (1 to 10000): "
        "fewer when fewer wait.",
    )
    store_block_ms: int = Field(1000, ge=10, description="How long one read waits for new messages.")
    store_claim_idle_s: int = Field(
        60, ge=1, description="Messages pending this long on another consumer are taken over (XAUTOCLAIM)."
    )
    events_maxlen: int = Field(1_000_000, ge=1, description="Approximate cap on the events stream's length.")
    events_max_age_s: int = Field(
        0, ge=0, description="When set, trim the events stream by age instead of length: keep this many seconds."
    )
    store_write_path: Literal["executemany", "copy"] = Field(
        "copy",
        description="How batches reach PostgreSQL: binary COPY (new rows straight in, the rest staged and merged), "
        "or multi-row INSERTs (SQLite always uses INSERTs). `make bench-store` compares them.",
    )
    store_api_port: int = Field(9104, ge=0, le=65535, description="Port of the read API; 0 disables it.")
    store_api_host: str = Field("0.0.0.0", description="Address the read API listens on.")
    store_api_token: str | None = Field(
        None,
        description="When set, the read API wants `Authorization: Bearer <token>` on /v1 (probes, /metrics open).",
    )
    store_api_max_page: int = Field(200, ge=1, le=10_000, description="Largest page the read API returns.")
    store_consumer_name: str | None = Field(None, description="Consumer name in the group; host-pid by default.")
    auto_migrate: bool = Field(True, description="Bring the schema up to date at start.")
    store_metrics_port: int = Field(9103, ge=0, le=65535)
