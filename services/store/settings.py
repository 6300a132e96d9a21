from pydantic import Field

from services.common.settings import CommonSettings


class StoreSettings(CommonSettings):
    db_url: str = Field(
        "sqlite:///data/newswire.db",
        description="SQLAlchemy URL: sqlite:///path (embedded default) or postgresql://user@host/db.",
    )
    store_batch_size: int = Field(100, ge=1, le=10_000)
    store_block_ms: int = Field(1000, ge=10, description="How long one read waits for new messages.")
    store_claim_idle_s: int = Field(
        60, ge=1, description="Messages pending this long on another consumer are taken over (XAUTOCLAIM)."
    )
    events_maxlen: int = Field(1_000_000, ge=1, description="Approximate cap on the events stream's length.")
    store_consumer_name: str | None = Field(None, description="Consumer name in the group; host-pid by default.")
    auto_migrate: bool = Field(True, description="Bring the schema up to date at start.")
    store_metrics_port: int = Field(9103, ge=0, le=65535)
