"""The benchmark's feed server: many realistic feeds on many loopback hosts, one asyncio process.

Feed ``i`` lives at ``http://127.0.<h>.<k>:PORT/f/i.xml`` (host chosen by ``i``). Its kind is fixed
by ``i``: most are unchanged (a 304 to a request that brings back their ETag), some publish a new
item on every request, a few are slow (half a second before answering) and a few are broken (HTTP
500, truncated XML, or an HTML page). Usage: ``python bench/ingest_server.py FEEDS HOSTS ITEMS PORT``;
prints ``ready`` when listening.
"""

import asyncio
import email.utils
import sys
import time

SLOW_DELAY_S = 0.5


def kind(i: int) -> str:
    r = (i * 7919) % 100
    if r < 85:
        return "unchanged"
    if r < 95:
        return "new_items"
    if r < 99:
        return "slow"
    return "broken"


def host(i: int, hosts: int) -> str:
    n = i % hosts
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def item(feed: int, n: int, now: float) -> str:
    published = email.utils.formatdate(now - n * 3600, usegmt=True)
    return (
        f"<item><title>Feed {feed} story {n}: fighting near the border town, residents say</title>"
        f"<link>https://outlet{feed % 97}.example.org/news/{feed}/story-{n}.html?utm_source=rss</link>"
        f'<guid isPermaLink="false">feed-{feed}-story-{n}</guid><pubDate>{published}</pubDate>'
        f"<dc:creator>Reporter {n % 13}</dc:creator><category>Myanmar</category>"
        f"<description>&lt;p&gt;Summary of story {n} from feed {feed}: the resistance army said it took the "
        f"town after days of fighting; the junta did not answer.&lt;/p&gt;</description>"
        f"<content:encoded><![CDATA[<p>Paragraph one of story {n}. Residents said fighting began early on "
        f"Wednesday and continued until the evening, when the last soldiers fled across the border.</p>"
        f"<p>Paragraph two. A spokesperson for the group said <a href='/related/{n}'>the town</a> was now "
        f"under its control; the military's spokesperson declined to comment.</p>"
        f"<p>Paragraph three. Aid groups said hundreds of families had fled and needed food and shelter.</p>"
        f"]]></content:encoded></item>"
    )


def document(feed: int, items: int, start: int, now: float) -> bytes:
    body = "".join(item(feed, n, now) for n in range(start, start + items))
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Outlet {feed % 97}: feed {feed}</title><link>https://outlet{feed % 97}.example.org/</link>"
        f"<language>en</language><ttl>15</ttl>{body}</channel></rss>"
    ).encode()


class Feeds:
    def __init__(self, count: int, items: int) -> None:
        self.items = items
        self.now = time.time()
        self.bodies: dict[int, bytes] = {}
        self.counters = [0] * count
        self.count = count

    def body(self, i: int) -> bytes:
        if i not in self.bodies:
            self.bodies[i] = document(i, self.items, 0, self.now)
        return self.bodies[i]

    async def answer(self, i: int, etag_sent: str | None) -> tuple[int, dict[str, str], bytes]:
        if i >= self.count:
            return 404, {}, b"no such feed"
        k = kind(i)
        etag = f'"e{i}"'
        if k == "broken":
            flavour = i % 3
            if flavour == 0:
                return 500, {}, b"internal error"
            if flavour == 1:
                return 200, {"Content-Type": "application/rss+xml"}, self.body(i)[: len(self.body(i)) // 2]
            return 200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><body><h1>Moved</h1></body></html>"
        if k == "slow":
            await asyncio.sleep(SLOW_DELAY_S)
        if k == "new_items":
            self.counters[i] += 1
            # One new story at the top on every request; the oldest drops off the end.
            start = -self.counters[i]
            body = document(i, self.items, start, self.now)
            return 200, {"Content-Type": "application/rss+xml", "ETag": f'"n{i}-{self.counters[i]}"'}, body
        if etag_sent == etag:
            return 304, {"ETag": etag}, b""
        headers = {"Content-Type": "application/rss+xml", "ETag": etag, "Cache-Control": "max-age=900"}
        return 200, headers, self.body(i)


async def handle(feeds: Feeds, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            try:
                i = int(path.rsplit("/", 1)[1].split(".")[0])
            except (IndexError, ValueError):
                i = 1 << 30
            status, extra, body = await feeds.answer(i, headers.get("if-none-match"))
            reason = {200: "OK", 304: "Not Modified", 404: "Not Found", 500: "Internal Server Error"}[status]
            out = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
            out += [f"{k}: {v}" for k, v in extra.items()]
            close = headers.get("connection", "").lower() == "close"
            if close:
                out.append("Connection: close")
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + body)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(count: int, hosts: int, items: int, port: int) -> None:
    feeds = Feeds(count, items)
    addresses = sorted({host(i, hosts) for i in range(min(count, hosts))})
    server = await asyncio.start_server(
        lambda r, w: handle(feeds, r, w), host=addresses, port=port, backlog=1024, reuse_address=True
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(*(int(a) for a in sys.argv[1:5])))
