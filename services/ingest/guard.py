"""The network layer under httpx: refuse forbidden addresses and enforce a whole-request deadline.

Both live at the socket, not at the URL, because only there are they sound:
- Server-side request forgery: a feed URL (or any redirect it leads to) whose host *resolves* to a
  loopback, private, link-local, shared or metadata address is refused. We resolve the name once,
  check every address, and connect to the address we checked, so a DNS answer that changes between
  the check and the connection (DNS rebinding) cannot slip through. TLS still verifies and sends the
  original host name (httpcore passes it to ``start_tls`` separately).
- A server that drips one byte a second never trips a read timeout; every read and write here is
  also bounded by the deadline of the request under way on this thread.
"""

import ipaddress
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from services.ingest.errors import FetchError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_deadline = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every socket operation of this thread inside the block ends by ``seconds`` from now."""
    previous = getattr(_deadline, "at", None)
    _deadline.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _deadline.at = previous


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request's total time ran out")
    return left if timeout is None else min(timeout, left)


def is_forbidden(address: Address, allowed: Iterable[Network] = ()) -> bool:
    """True for anything but a public unicast address, unless an allowed network holds it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address.version == net.version and address in net for net in allowed):
        return False
    # is_global is False for loopback, RFC 1918, link-local (169.254.169.254, the cloud metadata
    # address, among them), shared 100.64/10, unique-local fc00::/7, documentation and reserved ranges.
    return not address.is_global or address.is_multicast


def resolve(host: str, port: int, allowed: Iterable[Network]) -> list[str]:
    """The addresses of ``host``, refusing the host if any of them is forbidden."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for text in addresses:
        if is_forbidden(ipaddress.ip_address(text.split("%", 1)[0]), allowed):
            raise FetchError(
                "blocked_address",
                f"{host} resolves to {text}, a loopback, private, link-local or metadata address "
                "(NEWSWIRE_INGEST_ALLOW_NETWORKS opens it)",
            )
    return addresses


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> "_Stream":
        remaining = _remaining(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, remaining))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allowed: Iterable[Network] = ()) -> None:
        self._inner = httpcore.SyncBackend()
        self._allowed = tuple(allowed)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port, self._allowed)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    address, port, _remaining(timeout, httpcore.ConnectTimeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return _Stream(stream)
        raise last or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise FetchError("unsupported", "unix sockets are not feeds")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_SSL_LOCK = threading.Lock()
_SSL: list[ssl.SSLContext] = []


def shared_ssl_context() -> ssl.SSLContext:
    with _SSL_LOCK:
        if not _SSL:
            _SSL.append(httpx.create_ssl_context(trust_env=False))
        return _SSL[0]


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over :class:`GuardedBackend`; proxies from the environment are ignored
    (they would connect on our behalf to addresses we never checked)."""

    def __init__(
        self,
        allowed: Iterable[Network] = (),
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        # One SSL context for every client: each loads the CA bundle, about a megabyte and
        # milliseconds of CPU, which a pool per origin would otherwise pay thousands of times.
        ssl_context = ssl_context or shared_ssl_context()
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed),
        )


class ClientPool:
    """One small HTTP client per origin (scheme, host, port), least recently used dropped first.

    httpcore's pool scans every connection it holds on each request, so one shared pool over
    thousands of hosts spends its time scanning; a pool per origin stays as small as that host's
    concurrency cap, and keep-alive still works across the feeds one host serves.
    """

    def __init__(self, factory: Callable[[], httpx.Client], max_origins: int = 1024) -> None:
        self._factory = factory
        self._max = max_origins
        self._clients: OrderedDict[str, httpx.Client] = OrderedDict()
        self._lock = threading.Lock()

    def for_url(self, url: str) -> httpx.Client:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        with self._lock:
            client = self._clients.get(origin)
            if client is not None:
                self._clients.move_to_end(origin)
                return client
            client = self._clients[origin] = self._factory()
            evicted = self._clients.popitem(last=False)[1] if len(self._clients) > self._max else None
        if evicted is not None:
            # A request still using it finishes on its open connection; closing frees the rest.
            evicted.close()
        return client

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()


def make_client(
    user_agent: str,
    allowed: Iterable[Network],
    connect_timeout_s: float,
    read_timeout_s: float,
    max_connections: int = 100,
) -> httpx.Client:
    timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s, pool=connect_timeout_s)
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.Client(
        transport=GuardedTransport(allowed, limits),
        timeout=timeout,
        follow_redirects=False,  # fetch follows them itself, checking each hop
        headers={"User-Agent": user_agent},
        trust_env=False,
    )
