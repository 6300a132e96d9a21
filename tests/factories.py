"""Messages for tests, built through the real schemas."""

from datetime import UTC, datetime, timedelta

from services.common.schema import Article, Entity, Event, Mention, TaggedArticle, Tagger

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


def entity(key: str, type_: str = "LOC", aliases: list[str] | None = None, **fields: object) -> Entity:
    return Entity.model_validate(
        {"id": f"entity:{key}", "type": type_, "name": key, "aliases": aliases or [], **fields}
    )


def event(key: str, actors: list[str] | None = None, killed: int | None = None, **fields: object) -> Event:
    return Event.model_validate(
        {
            "id": f"event:{key}",
            "type": "Battles",
            "sub_type": "Armed clash",
            "actors": actors or [],
            "place_id": "entity:Myitkyina",
            "date": BASE_TIME.date(),
            "date_precision": "day",
            "counts": {"killed": killed},
            "evidence": f"Fighting broke out ({key}).",
            "confidence": 0.8,
            **fields,
        }
    )


def rich(
    a: Article,
    entities: list[Entity] | None = None,
    events: list[Event] | None = None,
    story_id: str | None = "story:1",
) -> TaggedArticle:
    """A tagged article with linked mentions, its entities, events and story, as schema v2 has them."""
    if entities is None:
        entities = [entity("Naw Bu", "PER"), entity("Myitkyina", "LOC", ["Myitkyinar"], gazetteer_id="geonames:1")]
    if events is None:
        events = [event("clash", actors=["entity:Naw Bu"], killed=3)]
    mentions = [
        Mention(field="body", start=0, end=6, text="Naw Bu", label="PER", score=0.9, entity_id="entity:Naw Bu"),
        Mention(field="body", start=17, end=26, text="Myitkyina", label="LOC", score=0.8, entity_id="entity:Myitkyina"),
    ]
    return tagged(a, mentions).model_copy(update={"entities": entities, "events": events, "story_id": story_id})
