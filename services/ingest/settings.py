import ipaddress
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from services.common.settings import CommonSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class IngestSettings(CommonSettings):
    feeds: Path = Field(Path("feeds.yaml"), description="Feed registry (YAML).")
    user_agent: str = Field(
        "Newswire/0.1 (+https://github.com/newswire)",
        description="User-Agent of feed requests; the contact (NEWSWIRE_INGEST_CONTACT) is appended.",
    )
    ingest_contact: str = Field(
        "feeds@example.org",
        description="Who publishers can write to about our polling (an e-mail address or URL): set your own.",
    )
    fetch_timeout_s: float = Field(20.0, gt=0, description="Seconds a feed request may wait for the next bytes.")
    fetch_connect_timeout_s: float = Field(10.0, gt=0, description="Seconds to connect to a feed's server.")
    fetch_total_timeout_s: float = Field(
        60.0, gt=0, description="Seconds a whole feed request may take, however slowly the server drips."
    )
    max_feed_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="Cap on a feed's body size, counted after decompression."
    )
    ingest_max_redirects: int = Field(5, ge=0, le=20, description="Redirects a feed request may follow.")
    ingest_allow_networks: str = Field(
        "",
        description="Comma-separated networks that feeds may resolve to although private or loopback "
        "(e.g. 127.0.0.0/8); others are refused.",
    )
    ingest_workers: int = Field(16, ge=1, le=512, description="Feeds polled at once by one ingest replica.")
    ingest_host_concurrency: int = Field(
        2, ge=1, description="Requests at once to one host, across all ingest replicas."
    )
    ingest_host_gap_s: float = Field(
        1.0, ge=0, description="Least seconds between two requests to one host, across all ingest replicas."
    )
    ingest_max_interval_s: int = Field(
        6 * 3600, ge=60, description="Longest wait between two polls of a healthy feed, unless the feed sets its own."
    )
    ingest_jitter: float = Field(0.1, ge=0, lt=1, description="Poll times move by up to this fraction, at random.")
    ingest_backoff_max_s: int = Field(
        24 * 3600,
        ge=60,
        description="Longest wait before retrying a failing feed or a host that asked us to slow down.",
    )
    ingest_broken_after: int = Field(
        10, ge=1, description="Consecutive failures after which a feed is marked broken and no longer polled."
    )
    ingest_claim_ttl_s: int = Field(
        300, ge=10, description="Seconds a replica's claim on a feed lasts; a dead replica's claims expire after it."
    )
    ingest_fetch_pages: bool = Field(
        True, description="For feeds that carry only a summary, fetch each new article's page and extract its text."
    )
    ingest_summary_only_chars: int = Field(
        500, ge=0, description="An entry whose body is shorter than this many characters counts as summary-only."
    )
    ingest_max_pages_per_poll: int = Field(10, ge=0, description="Article pages fetched at most per feed poll.")
    max_page_bytes: int = Field(
        5 * 1024 * 1024, gt=0, description="Cap on an article page's size, counted after decompression."
    )
    ingest_metrics_port: int = Field(9101, ge=0, le=65535, description="Port of ingest's /metrics (0: none).")

    @field_validator("ingest_allow_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"{part!r} is not a network such as 127.0.0.0/8 ({exc})") from None
        return value

    @model_validator(mode="after")
    def _claim_outlives_a_poll(self) -> "IngestSettings":
        # A claim that expires mid-poll would let a second replica poll the same feed at once.
        if self.ingest_claim_ttl_s < 2 * self.fetch_total_timeout_s + 30:
            raise ValueError(
                f"ingest_claim_ttl_s ({self.ingest_claim_ttl_s}) must be at least twice "
                f"fetch_total_timeout_s ({self.fetch_total_timeout_s}) plus 30 seconds"
            )
        return self

    @property
    def allowed_networks(self) -> tuple[Network, ...]:
        parts = (p.strip() for p in self.ingest_allow_networks.split(","))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)

    @property
    def full_user_agent(self) -> str:
        return f"{self.user_agent} ({self.ingest_contact})" if self.ingest_contact else self.user_agent
