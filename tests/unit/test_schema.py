"""Message schemas: strict about fields and versions, and lossless through JSON."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from services.common.schema import ARTICLE_SCHEMA, Article, Change, Mention, TaggedArticle, Tagger

PUBLISHED = datetime(2024, 11, 21, 16, 40, tzinfo=UTC)
FETCHED = datetime(2024, 12, 5, 12, 0, tzinfo=UTC)


def article_fields(**changes: object) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "0123456789abcdef0123456789abcdef",
        "version": "fedcba9876543210fedcba9876543210",
        "feed": "rfa-english-myanmar",
        "outlet": "Radio Free Asia",
        "url": "https://www.rfa.org/english/news/myanmar/kachin.html",
        "title": "Kachin rebels capture last junta-held border crossing",
        "authors": ["RFA Burmese"],
        "published_at": PUBLISHED,
        "fetched_at": FETCHED,
        "summary": "The most powerful insurgent group…",
        "body_html": "<p>The KIA’s “push”.</p>",
        "body_text": "The KIA’s “push”.",
        "language": "en",
    }
    fields.update(changes)
    return fields


def mention_fields(**changes: object) -> dict[str, Any]:
    fields: dict[str, Any] = {"field": "body", "start": 4, "end": 7, "text": "KIA", "label": "ORG", "score": 0.98}
    fields.update(changes)
    return fields


def tagged(mentions: list[Mention] | None = None) -> TaggedArticle:
    return TaggedArticle(
        article=Article.model_validate(article_fields()),
        mentions=mentions
        if mentions is not None
        else [
            Mention.model_validate(mention_fields()),
            Mention(field="title", start=0, end=6, text="Kachin", label="LOC", score=0.5),
            Mention(field="body", start=0, end=1, text="T", label="MISC", score=0.0),
            Mention(field="body", start=10, end=14, text="push", label="PER", score=1.0),
        ],
        tagger=Tagger(backend="transformers", model="dslim/bert-base-NER"),
        tagged_at=datetime(2024, 12, 5, 12, 0, 1, 250000, tzinfo=UTC),
    )


def test_article_defaults() -> None:
    article = Article.model_validate(
        article_fields(authors=[], summary="", body_html="", body_text="", language=None)
        | {"schema_version": ARTICLE_SCHEMA}
    )
    minimal = Article.model_validate(
        {
            k: v
            for k, v in article_fields().items()
            if k not in {"authors", "summary", "body_html", "body_text", "language"}
        }
    )
    assert minimal == article
    assert minimal.schema_version == 1
    assert minimal.published_at_is_fetch_time is False


@pytest.mark.parametrize(
    "changes",
    [
        {"category": "conflict"},
        {"body": "text under the wrong name"},
        {"schema_version": 1, "extra": None},
    ],
)
def test_article_rejects_unknown_fields(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        Article.model_validate(article_fields(**changes))
    assert {e["type"] for e in caught.value.errors()} == {"extra_forbidden"}


@pytest.mark.parametrize("version", [0, 2, "2", None])
def test_article_rejects_an_unknown_schema_version(version: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Article.model_validate(article_fields(schema_version=version))
    assert [e["loc"] for e in caught.value.errors()] == [("schema_version",)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "short"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"version": "v1"}, "version"),
        ({"published_at": datetime(2024, 11, 21, 16, 40)}, "published_at"),
        ({"fetched_at": datetime(2024, 12, 5, 12, 0)}, "fetched_at"),
        ({"published_at": "yesterday"}, "published_at"),
        ({"authors": "RFA Burmese"}, "authors"),
    ],
)
def test_article_rejects_bad_values(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Article.model_validate(article_fields(**changes))
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize(
    "when",
    [
        datetime(2024, 11, 21, 23, 40, tzinfo=timezone(timedelta(hours=7))),
        datetime(2024, 11, 21, 11, 40, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_article_keeps_an_aware_date_as_the_same_instant(when: datetime) -> None:
    article = Article.model_validate(article_fields(published_at=when))
    assert article.published_at == PUBLISHED
    assert Article.model_validate_json(article.model_dump_json()).published_at == PUBLISHED


def test_article_is_frozen() -> None:
    article = Article.model_validate(article_fields())
    with pytest.raises(ValidationError, match="frozen"):
        article.title = "changed"  # type: ignore[misc]


def test_tagged_article_round_trips_through_json() -> None:
    original = tagged()
    restored = TaggedArticle.model_validate_json(original.model_dump_json())
    assert restored == original
    assert restored.article.body_text == "The KIA’s “push”."
    assert restored.tagged_at.tzinfo is not None
    assert [m.label for m in restored.mentions] == ["ORG", "LOC", "MISC", "PER"]


def test_tagged_article_without_mentions_round_trips() -> None:
    original = tagged(mentions=[])
    assert TaggedArticle.model_validate_json(original.model_dump_json()) == original


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("schema_version",), 1),
        (("article", "schema_version"), 2),
        (("article", "surprise"), True),
        (("tagger", "backend"), "regex"),
        (("surprise",), True),
    ],
)
def test_tagged_article_json_with_unknown_version_or_field_is_rejected(path: tuple[str, ...], value: object) -> None:
    document = tagged().model_dump(mode="json")
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as caught:
        TaggedArticle.model_validate(document)
    assert caught.value.errors()[0]["loc"][: len(path)] == path


@pytest.mark.parametrize(
    "changes",
    [
        {"start": 0},
        {"start": 0, "end": 1},
        {"score": 0.0},
        {"score": 1.0},
        {"label": "PER"},
        {"label": "LOC"},
        {"label": "MISC"},
        {"field": "title"},
    ],
)
def test_mention_accepts_values_on_the_bounds(changes: dict[str, object]) -> None:
    mention = Mention.model_validate(mention_fields(**changes))
    assert mention.model_dump() == mention_fields(**changes) | {"entity_id": None}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start": -1}, "start"),
        ({"end": 0}, "end"),
        ({"end": -5}, "end"),
        ({"score": -0.01}, "score"),
        ({"score": 1.01}, "score"),
        ({"label": "GPE"}, "label"),
        ({"label": "per"}, "label"),
        ({"field": "summary"}, "field"),
        ({"sentence": 3}, "sentence"),
    ],
)
def test_mention_rejects_values_out_of_bounds(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Mention.model_validate(mention_fields(**changes))
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


def test_change_round_trips_and_rejects_unknown_kind() -> None:
    change = Change(
        event_id="1733400000000-0",
        kind="article.upserted",
        id="0123456789abcdef0123456789abcdef",
        version="fedcba9876543210fedcba9876543210",
        committed_at=FETCHED,
        mentions=4,
    )
    assert Change.model_validate_json(change.model_dump_json()) == change
    with pytest.raises(ValidationError):
        Change.model_validate(change.model_dump() | {"kind": "article.deleted"})
