from pathlib import Path

from pydantic import Field

from services.common.settings import CommonSettings


class IngestSettings(CommonSettings):
    feeds: Path = Field(Path("feeds.yaml"), description="Feed registry (YAML).")
    user_agent: str = "Newswire/0.1 (+https://github.com/newswire; feeds@example.org)"
    fetch_timeout_s: float = Field(20.0, gt=0)
    max_feed_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Cap on a feed's body size.")
    ingest_metrics_port: int = Field(9101, ge=0, le=65535)
