"""The settings every service shares, read from ``NEWSWIRE_*`` environment variables.

Each service subclasses :class:`CommonSettings` with its own fields; :func:`load` turns a validation
error into one line per variable that says what is wrong, instead of a pydantic traceback.
"""

from typing import Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.errors import NewswireError
from services.common.names import DEFAULT_NAMESPACE, Keys

ENV_PREFIX = "NEWSWIRE_"


class SettingsError(NewswireError):
    """A setting is missing or malformed; the message names the variable."""


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis server: redis://[:password@]host:port/db, or rediss:// for TLS.",
    )
    redis_namespace: str = Field(
        DEFAULT_NAMESPACE,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Prefix of every Redis key, so deployments can share one server.",
    )
    visibility_timeout_s: int = Field(
        900, gt=0, description="Seconds before a task held by a dead extract worker is delivered again."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @property
    def keys(self) -> Keys:
        return Keys(self.redis_namespace)


S = TypeVar("S", bound=BaseSettings)


def load(cls: type[S]) -> S:
    try:
        return cls()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            lines.append(f"{ENV_PREFIX}{field.upper()}: {error['msg']} (got {error.get('input')!r})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs (Redis and database URLs
    carry credentials)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
