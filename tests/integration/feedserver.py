"""A real HTTP server on 127.0.0.1 for ingest's tests: each path answers as a test scripts it, and
every request is recorded (path, headers, start and end, how many were under way at once)."""

import email.utils
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[["Request"], "Reply"]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (a slow server), and per byte of body (a dripping one).
    delay_s: float = 0.0
    drip_s: float = 0.0


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    started: float
    ended: float = 0.0
    concurrent: int = 0  # requests to this server under way when this one started, itself included


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._active = 0
        self.max_concurrent = 0
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server._active += 1
                    server.max_concurrent = max(server.max_concurrent, server._active)
                    request = Request(path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                    request.concurrent = server._active
                    server.requests.append(request)
                try:
                    handler = server.routes.get(path)
                    reply = handler(request) if handler else Reply(404, b"not found")
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                    self.send_response(reply.status)
                    headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    try:
                        if reply.drip_s:
                            for i in range(len(reply.body)):
                                self.wfile.write(reply.body[i : i + 1])
                                self.wfile.flush()
                                time.sleep(reply.drip_s)
                        else:
                            self.wfile.write(reply.body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                finally:
                    with server._lock:
                        server._active -= 1
                        request.ended = time.monotonic()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, handler: Handler | Reply) -> str:
        if isinstance(handler, Reply):
            reply = handler

            def fixed(_request: Request) -> Reply:
                return reply

            handler = fixed
        self.routes[path] = handler
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running() -> Iterator[FeedServer]:
    server = FeedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def rss(items: list[dict[str, str]], *, ttl: int | None = None, title: str = "Test feed", extra: str = "") -> bytes:
    """An RSS 2.0 document; each item maps element names to their text."""
    body = "".join("<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in item.items()) + "</item>" for item in items)
    ttl_element = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example.org/</link><language>en</language>{ttl_element}{extra}"
        f"{body}</channel></rss>"
    ).encode()


def items(count: int, prefix: str = "story", hours_apart: float = 1.0) -> list[dict[str, str]]:
    now = time.time()
    return [
        {
            "title": f"{prefix} {i}",
            "link": f"https://news.example.org/{prefix}-{i}.html",
            "guid": f"{prefix}-{i}",
            "pubDate": email.utils.formatdate(now - i * hours_apart * 3600, usegmt=True),
            "description": f"Summary of {prefix} {i}.",
        }
        for i in range(count)
    ]


def conditional(body: bytes, etag: str = '"v1"', last_modified: str = "Sat, 21 Nov 2026 10:00:00 GMT") -> Handler:
    """Answer 304 when the request carries our validators, else the body with them."""

    def handle(request: Request) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, body, {"ETag": etag, "Last-Modified": last_modified, "Content-Type": "application/rss+xml"})

    return handle


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body)
