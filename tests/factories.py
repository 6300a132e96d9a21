"""Messages for tests, built through the real schemas."""

from datetime import UTC, datetime, timedelta

from services.common.schema import Article, Mention, TaggedArticle, Tagger

BASE_TIME = datetime(2024, 11, 21, 16, 40, tzinfo=UTC)


def article(
    n: int = 1, version: str = "v1", fetched_offset_s: int = 0, body: str = "Naw Bu spoke in Myitkyina."
) -> Article:
    return Article(
        id=f"article-{n:04d}-0123456789abcdef",
        version=f"{version}-0123456789abcdef",
        feed="test-feed",
        outlet="Test Outlet",
        url=f"https://example.org/news/{n}",
        title=f"Story {n}",
        authors=["Reporter"],
        published_at=BASE_TIME,
        fetched_at=BASE_TIME + timedelta(seconds=fetched_offset_s),
        summary="A summary.",
        body_html=f"<p>{body}</p>",
        body_text=body,
        language="en",
    )


def tagged(a: Article, mentions: list[Mention] | None = None) -> TaggedArticle:
    if mentions is None:
        mentions = [
            Mention(field="body", start=0, end=6, text="Naw Bu", label="PER", score=0.9),
            Mention(field="body", start=17, end=26, text="Myitkyina", label="LOC", score=0.8),
        ]
    return TaggedArticle(
        article=a, mentions=mentions, tagger=Tagger(backend="spacy", model="en_core_web_sm"), tagged_at=BASE_TIME
    )
