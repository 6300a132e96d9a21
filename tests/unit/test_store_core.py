"""Store's pure core: classifying a message, merging a batch's entities, the read API's cursors,
the events consumer's parsing."""

import datetime as dt
import gc
import json
import uuid
from datetime import UTC

import pytest

from services.common.events_consumer import UnknownKind
from services.common.events_consumer import _parse as parse_change
from services.common.schema import Change, TaggedArticle
from services.store.consumer import Message
from services.store.errors import BadCursorError
from services.store.queries import decode_cursor, encode_cursor
from services.store.repository import _merge_entities
from services.store.service import collector_paused, parse
from tests.factories import article, entity, rich, tagged


def _message(fields: dict[str, str]) -> Message:
    return Message("1-0", fields)


GOOD = rich(article(1)).model_dump_json()


@pytest.mark.parametrize(
    ("fields", "kind", "reason"),
    [
        ({}, "malformed", "no payload field"),
        ({"payload": "{"}, "malformed", "payload is not JSON"),
        ({"payload": "[]"}, "schema_version", "unsupported schema_version None"),
        ({"payload": GOOD.replace('"schema_version":2', '"schema_version":3', 1)}, "schema_version", "reads 2"),
        ({"payload": GOOD.replace('"label":"PER"', '"label":"X"', 1)}, "invalid", "('mentions', 0, 'label')"),
    ],
)
def test_a_message_that_carries_no_tagged_article_says_why(fields: dict[str, str], kind: str, reason: str) -> None:
    result = parse(_message(fields))
    assert isinstance(result, tuple)
    assert result[0] == kind and reason in result[1]


def test_a_good_message_is_parsed() -> None:
    result = parse(_message({"payload": GOOD}))
    assert isinstance(result, TaggedArticle) and result.story_id == "story:1"


def test_a_batch_merges_each_entity_once_with_every_alias() -> None:
    first = rich(article(1), entities=[entity("KIA", "ORG", ["Kachin Independence Army"])])
    second = rich(article(2), entities=[entity("KIA", "ORG", ["K.I.A."], country="Myanmar")])
    merged = _merge_entities([first, second, tagged(article(3))])
    assert list(merged) == ["entity:KIA"]
    latest, aliases = merged["entity:KIA"]
    assert latest.country == "Myanmar"
    assert aliases == ["KIA", "Kachin Independence Army", "K.I.A."]


def test_cursors_round_trip() -> None:
    moment = dt.datetime(2024, 11, 21, 16, 40, tzinfo=UTC)
    cursor = encode_cursor(moment.isoformat(), "article-1")
    assert decode_cursor(cursor, (dt.datetime, str)) == [moment, "article-1"]
    assert decode_cursor(encode_cursor("2024-11-21", "e"), (dt.date, str)) == [dt.date(2024, 11, 21), "e"]


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", "bm90LWpzb24", encode_cursor("x"), encode_cursor("not a time", "a"), encode_cursor(1, 2)],
)
def test_a_cursor_the_api_did_not_issue_is_refused(cursor: str) -> None:
    with pytest.raises(BadCursorError, match="cursor is not one this API issued"):
        decode_cursor(cursor, (dt.datetime, str))


def test_the_consumer_library_reads_changes_and_says_why_it_cannot() -> None:
    change = Change(
        event_id=str(uuid.uuid4()), kind="story.updated", id="s", version="2", committed_at=dt.datetime.now(UTC)
    )
    assert parse_change({"payload": change.model_dump_json()}) == change
    assert parse_change({}) == "no payload field"
    # A kind the contract gained later is no error: the consumer skips it (see EventsConsumer).
    newer = json.dumps({**json.loads(change.model_dump_json()), "kind": "story.deleted"})
    assert parse_change({"payload": newer}) == UnknownKind("story.deleted")
    wrong = json.dumps({**json.loads(change.model_dump_json()), "kind": 5})
    assert str(parse_change({"payload": wrong})).startswith("invalid change: ('kind',)")


def test_the_collector_is_paused_only_while_a_batch_is_handled() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()  # a failed batch leaves the collector on as well
