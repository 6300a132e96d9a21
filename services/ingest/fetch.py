"""Fetch a feed's bytes: local files for the bundled samples, HTTP(S) with conditional GET.

Conditional requests follow RFC 9110 §13: we send back the ETag as If-None-Match and the
Last-Modified as If-Modified-Since, and a 304 means the feed did not change.
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

from services.ingest.errors import FetchError


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    url: str
    not_modified: bool
    body: bytes
    content_type: str | None
    validators: Validators


def fetch(client: httpx.Client, url: str, previous: Validators, max_bytes: int) -> Fetched:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return _read_file(Path(parsed.path if parsed.scheme else url), max_bytes)
    if parsed.scheme not in ("http", "https"):
        raise FetchError("unsupported", f"{url}: only http, https and local files are supported")
    headers = {}
    if previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(str(response.url), True, b"", None, previous)
            if response.status_code != 200:
                raise FetchError("http_status", f"{url}: HTTP {response.status_code}")
            body = bytearray()
            # Counted after decompression, so a compressed bomb is stopped too.
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError("too_large", f"{url}: body exceeds {max_bytes} bytes")
            return Fetched(
                url=str(response.url),
                not_modified=False,
                body=bytes(body),
                content_type=response.headers.get("content-type"),
                validators=Validators(response.headers.get("etag"), response.headers.get("last-modified")),
            )
    except httpx.TimeoutException as exc:
        raise FetchError("timeout", f"{url}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise FetchError("connect", f"{url}: {type(exc).__name__}: {exc}") from exc


def _read_file(path: Path, max_bytes: int) -> Fetched:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError("too_large", f"{path}: {size} bytes exceeds {max_bytes}")
        body = path.read_bytes()
    except FileNotFoundError:
        raise FetchError("not_found", f"{path}: no such file") from None
    return Fetched(str(path), False, body, None, Validators())
