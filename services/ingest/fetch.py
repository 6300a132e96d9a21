"""Fetch a feed's bytes: local files for the bundled samples, HTTP(S) with conditional GET.

Conditional requests follow RFC 9110 §13: we send back the ETag as If-None-Match and the
Last-Modified as If-Modified-Since, and a 304 means the feed did not change. Redirects are followed
here, hop by hop (RFC 9110 §15.4), so that each hop is checked and a loop is caught; when every hop
was permanent (301, 308) the caller learns the new URL. Bodies are decompressed here too, with the
output capped as it is produced, so a gzip or brotli bomb stops at the cap instead of filling memory.
"""

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli
import httpx

from services.ingest.errors import FetchError
from services.ingest.guard import ClientPool, deadline

# Headers the scheduler reads; everything else is dropped.
_KEPT_HEADERS = ("cache-control", "expires", "retry-after", "content-type", "etag", "last-modified")
_PERMANENT = frozenset({301, 308})
_REDIRECT = frozenset({301, 302, 303, 307, 308})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br"
_CHUNK = 64 * 1024


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
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    # The feed's new URL when every redirect on the way was permanent; None otherwise.
    moved_to: str | None = None
    # Bytes as they came over the wire (compressed), for the metrics.
    wire_bytes: int = 0


class _Decoder:
    """Decompress one Content-Encoding with the output capped: ``feed`` never returns more than
    ``limit`` bytes in all, and raises ``too_large`` as soon as the stream would exceed it."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.encoding = encoding.strip().lower()
        self.limit = limit
        self.url = url
        self.produced = 0
        self._zlib: zlib._Decompress | None = None
        self._brotli: brotli.Decompressor | None = None
        self._first = True
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj()
        elif self.encoding == "br":
            self._brotli = brotli.Decompressor()
        elif self.encoding not in ("", "identity"):
            raise FetchError("bad_encoding", f"{url}: Content-Encoding {encoding!r} is not supported")

    def _count(self, out: bytes) -> bytes:
        self.produced += len(out)
        if self.produced > self.limit:
            raise FetchError("too_large", f"{self.url}: body exceeds {self.limit} bytes after decompression")
        return out

    def feed(self, data: bytes) -> bytes:
        room = self.limit - self.produced + 1
        try:
            if self._zlib is not None:
                try:
                    out = self._zlib.decompress(data, room)
                except zlib.error:
                    if not (self._first and self.encoding == "deflate"):
                        raise
                    # "deflate" is often sent raw, without the zlib header it should have.
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    out = self._zlib.decompress(data, room)
                self._first = False
                return self._count(out)
            if self._brotli is not None:
                out = self._brotli.process(data, output_buffer_limit=room)
                if len(out) < room and not self._brotli.can_accept_more_data():
                    # More output is pending than fits; draining it would only prove the bomb.
                    out += self._brotli.process(b"", output_buffer_limit=room - len(out))
                return self._count(out)
        except (zlib.error, brotli.error) as exc:
            raise FetchError("bad_encoding", f"{self.url}: corrupt {self.encoding} stream ({exc})") from None
        return self._count(data)


def _read_body(response: httpx.Response, url: str, max_bytes: int) -> tuple[bytes, int]:
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "")
    if declared.isdigit() and not encoding and int(declared) > max_bytes:
        raise FetchError("too_large", f"{url}: Content-Length {declared} exceeds {max_bytes} bytes")
    if "," in encoding:
        raise FetchError("bad_encoding", f"{url}: stacked Content-Encoding {encoding!r} is not supported")
    decoder = _Decoder(encoding, max_bytes, url)
    body = bytearray()
    wire = 0
    for chunk in response.iter_raw(_CHUNK):
        wire += len(chunk)
        body += decoder.feed(chunk)
    return bytes(body), wire


def _status_error(url: str, response: httpx.Response) -> FetchError:
    status = response.status_code
    retry_after = response.headers.get("retry-after")
    if status in (429, 503):
        reason = "rate_limited"
    elif status in (404, 410):
        reason = "gone"
    elif 400 <= status < 500:
        reason = "http_client_error"
    elif 500 <= status < 600:
        reason = "http_server_error"
    else:
        reason = "http_status"
    return FetchError(reason, f"{url}: HTTP {status}", status=status, retry_after=retry_after, url=url)


def fetch(
    client: httpx.Client | ClientPool,
    url: str,
    previous: Validators,
    max_bytes: int,
    *,
    max_redirects: int = 5,
    total_timeout_s: float = 60.0,
    accept: str = ACCEPT,
    on_redirect: Callable[[str], None] | None = None,
) -> Fetched:
    """Fetch ``url``. ``on_redirect`` is called with each redirect target before it is requested:
    the caller takes that host's politeness slot there, and may raise to stop the fetch."""
    parsed = urlsplit(url)
    if parsed.scheme in ("", "file"):
        return _read_file(Path(parsed.path if parsed.scheme else url), max_bytes)
    if parsed.scheme not in ("http", "https"):
        raise FetchError("unsupported", f"{url}: only http, https and local files are supported")
    headers = {"Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
    if previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    visited = [url]
    permanent = True
    current = url
    try:
        with deadline(total_timeout_s):
            for hop in range(max_redirects + 1):
                if hop and on_redirect is not None:
                    # After the redirect's response is closed: waiting for a slot holds no connection.
                    on_redirect(current)
                http = client.for_url(current) if isinstance(client, ClientPool) else client
                with http.stream("GET", current, headers=headers) as response:
                    if response.status_code in _REDIRECT:
                        location = response.headers.get("location")
                        target = urljoin(current, location) if location else ""
                        if urlsplit(target).scheme not in ("http", "https"):
                            raise FetchError("bad_redirect", f"{current}: redirect to {location!r}")
                        if target in visited:
                            raise FetchError("redirect_loop", f"{url}: redirect loop via {' → '.join(visited)}")
                        permanent = permanent and response.status_code in _PERMANENT
                        visited.append(target)
                        current = target
                        continue
                    return _response(url, current, response, previous, max_bytes, permanent)
            raise FetchError("too_many_redirects", f"{url}: more than {max_redirects} redirects")
    except httpx.TimeoutException as exc:
        raise FetchError("timeout", f"{current}: timed out ({type(exc).__name__}: {exc})") from exc
    except httpx.TransportError as exc:
        raise FetchError("connect", f"{current}: {type(exc).__name__}: {exc}") from exc


def _response(
    url: str, final: str, response: httpx.Response, previous: Validators, max_bytes: int, permanent: bool
) -> Fetched:
    kept = {k: v for k in _KEPT_HEADERS if (v := response.headers.get(k)) is not None}
    moved_to = final if permanent and final != url else None
    if response.status_code == 304:
        # RFC 9110 §15.4.5: a 304 may carry updated validators; keep the old ones otherwise.
        validators = Validators(kept.get("etag", previous.etag), kept.get("last-modified", previous.last_modified))
        return Fetched(final, True, b"", None, validators, 304, kept, moved_to)
    if response.status_code != 200:
        raise _status_error(final, response)
    body, wire = _read_body(response, final, max_bytes)
    return Fetched(
        url=final,
        not_modified=False,
        body=body,
        content_type=kept.get("content-type"),
        validators=Validators(kept.get("etag"), kept.get("last-modified")),
        status=200,
        headers=kept,
        moved_to=moved_to,
        wire_bytes=wire,
    )


def _read_file(path: Path, max_bytes: int) -> Fetched:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError("too_large", f"{path}: {size} bytes exceeds {max_bytes}")
        body = path.read_bytes()
    except FileNotFoundError:
        raise FetchError("not_found", f"{path}: no such file") from None
    except IsADirectoryError:
        raise FetchError("not_found", f"{path}: a directory, not a feed file") from None
    return Fetched(str(path), False, body, None, Validators(), wire_bytes=len(body))
