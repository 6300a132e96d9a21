"""The read API over data written by the real upsert, on both real databases: filters, pagination,
details, bad parameters, the bearer token, probes; then schemathesis against its own OpenAPI schema."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import Engine

from services.store import database
from services.store.api import create_app
from services.store.repository import upsert_batch
from services.store.settings import StoreSettings
from tests.conftest import REPO
from tests.factories import BASE_TIME, article, entity, event, rich

pytestmark = pytest.mark.integration

MAX_PAGE = 7


def _seed(engine: Engine) -> None:
    """Twelve articles from two outlets: one story, one event reported by all of them with different
    figures, a second event in another place, entities with aliases."""
    kia = entity("KIA", "ORG", ["Kachin Independence Army"])
    town = entity("Kanpaiti", "LOC", ["Kan Paik Ti", "Kanpiketi"], latitude=25.9, longitude=98.1)
    batch = []
    for n in range(1, 13):
        a = article(n).model_copy(
            update={
                "outlet": "Outlet A" if n % 2 else "Outlet B",
                "feed": "feed-a" if n % 2 else "feed-b",
                # Syndication: article 12 is also carried by a wire feed store has not read from.
                "feeds": ["feed-b", "wire"] if n == 12 else [],
                "language": "en" if n < 10 else "my",
                "published_at": BASE_TIME.replace(hour=n),
            }
        )
        reported = [event("clash", actors=["entity:KIA"], killed=n, place_id="entity:Kanpaiti")]
        if n == 12:
            reported.append(event("arrests", sub_type="Arrests", type="Strategic developments", date=None))
        batch.append(
            rich(
                a,
                entities=[kia, town, entity("Naw Bu", "PER")],
                events=reported,
                story_id="story:kanpaiti" if n < 5 else None,
            )
        )
    with engine.begin() as connection:
        upsert_batch(connection, batch)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = database.make_engine(db_url)
    database.upgrade(engine)
    _seed(engine)
    yield engine
    engine.dispose()


def _app(engine: Engine, **overrides: Any) -> FastAPI:
    return create_app(engine, StoreSettings(store_api_max_page=MAX_PAGE, **overrides))


@pytest.fixture
def client(engine: Engine) -> TestClient:
    return TestClient(_app(engine))


def _all_pages(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_articles_are_paged_newest_first_without_gaps_or_repeats(client: TestClient) -> None:
    items = _all_pages(client, "/v1/articles", limit=5)
    assert len(items) == len({i["id"] for i in items}) == 12
    published = [i["published_at"] for i in items]
    assert published == sorted(published, reverse=True)


def test_articles_filter_by_outlet_language_entity_story_and_time(client: TestClient) -> None:
    def ids(**params: Any) -> set[str]:
        return {i["id"] for i in _all_pages(client, "/v1/articles", **params)}

    assert ids(outlet="Outlet A") == {article(n).id for n in (1, 3, 5, 7, 9, 11)}
    assert ids(language="my") == {article(n).id for n in (10, 11, 12)}
    assert ids(story="story:kanpaiti") == {article(n).id for n in (1, 2, 3, 4)}
    assert len(ids(entity="entity:KIA")) == 0  # mentions link Naw Bu and Myitkyina, not KIA
    assert len(ids(entity="entity:Naw Bu")) == 12
    window = ids(since=BASE_TIME.replace(hour=3).isoformat(), until="2024-11-21T05:00:00+00:00")
    assert window == {article(3).id, article(4).id}
    # The same instant written with another offset selects the same articles.
    assert ids(since="2024-11-21T09:30:00+06:30", until="2024-11-21T05:00:00Z") == window


def test_an_article_comes_with_its_mentions_events_feeds_and_versions(client: TestClient) -> None:
    body = client.get(f"/v1/articles/{article(12).id}").json()
    assert [m["entity_id"] for m in body["mentions"]] == ["entity:Naw Bu", "entity:Myitkyina"]
    assert {e["event_id"]: e["counts"]["killed"] for e in body["events"]} == {"event:arrests": None, "event:clash": 12}
    assert body["feeds"] == [
        {"feed": "feed-b", "outlet": "Outlet B", "first_fetched_at": "2024-11-21T16:40:00Z"},
        {"feed": "wire", "outlet": None, "first_fetched_at": None},
    ]
    assert body["versions"] == [article(12).version]
    missing = client.get("/v1/articles/no-such-article")
    assert missing.status_code == 404 and "no article" in missing.json()["detail"]


def test_entities_are_found_by_any_alias_and_come_with_counts_and_events(client: TestClient) -> None:
    found = client.get("/v1/entities", params={"q": "paik"}).json()["items"]
    assert [e["id"] for e in found] == ["entity:Kanpaiti"]
    assert [e["id"] for e in client.get("/v1/entities", params={"q": "INDEPENDENCE"}).json()["items"]] == ["entity:KIA"]
    assert client.get("/v1/entities", params={"q": "100%"}).json()["items"] == []  # % is a character, not a wildcard
    body = client.get("/v1/entities/entity:Naw Bu").json()
    assert (body["mentions"], body["articles"]) == (12, 12)
    town = client.get("/v1/entities/entity:Kanpaiti").json()
    assert town["aliases"] == ["Kan Paik Ti", "Kanpaiti", "Kanpiketi"]
    assert [e["id"] for e in town["recent_events"]] == ["event:clash"]
    assert town["recent_events"][0]["sources"] == 12


def test_events_filter_by_type_place_actor_and_dates_and_keep_every_source(client: TestClient) -> None:
    def ids(**params: Any) -> list[str]:
        return [e["id"] for e in _all_pages(client, "/v1/events", limit=1, **params)]

    assert ids() == ["event:clash", "event:arrests"]  # undated last
    assert ids(type="Battles") == ["event:clash"]
    assert ids(place="entity:Kanpaiti") == ["event:clash"]
    assert ids(actor="entity:KIA") == ["event:clash"]
    assert ids(date_from="2024-11-21", date_to="2024-11-21") == ["event:clash"]
    assert ids(date_from="2024-11-22") == []
    body = client.get("/v1/events/event:clash").json()
    assert sorted(s["counts"]["killed"] for s in body["source_reports"]) == list(range(1, 13))
    assert {s["outlet"] for s in body["source_reports"]} == {"Outlet A", "Outlet B"}
    assert body["actors"] == ["entity:KIA"] and body["sources"] == 12


def test_a_story_is_a_timeline_outlet_by_outlet(client: TestClient) -> None:
    body = client.get("/v1/stories/story:kanpaiti").json()
    assert body["articles"] == 4
    assert [(o["outlet"], [a["id"] for a in o["articles"]]) for o in body["outlets"]] == [
        ("Outlet A", [article(1).id, article(3).id]),
        ("Outlet B", [article(2).id, article(4).id]),
    ]
    assert [s["id"] for s in client.get("/v1/stories").json()["items"]] == ["story:kanpaiti"]


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/v1/articles", {"limit": MAX_PAGE + 1}, "limit"),
        ("/v1/articles", {"limit": 0}, "limit"),
        ("/v1/articles", {"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ("/v1/articles", {"since": "yesterday"}, "since"),
        ("/v1/articles", {"since": "2024-11-22T00:00:00Z", "until": "2024-11-21T00:00:00Z"}, "since must be"),
        ("/v1/events", {"date_from": "2024-11-30", "date_to": "2024-11-01"}, "date_from"),
        ("/v1/events", {"date_to": "21/11/2024"}, "date_to"),
        ("/v1/entities", {"type": "PERSON"}, "type"),
        ("/v1/entities", {"q": "a\x00b"}, "q"),
    ],
)
def test_every_bad_parameter_gets_a_400_that_names_it(
    client: TestClient, path: str, params: dict[str, Any], says: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400
    assert says in response.json()["detail"]


def test_a_token_guards_the_data_but_not_the_probes(engine: Engine) -> None:
    client = TestClient(_app(engine, store_api_token="s3cret"))
    assert client.get("/v1/articles").status_code == 401
    assert client.get("/v1/articles", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/articles", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json() == {"status": "ok", "detail": None}
    metrics = client.get("/metrics").text
    assert 'newswire_store_api_requests_total{route="/v1/articles",status="401"}' in metrics


def test_readyz_says_when_the_schema_is_behind(engine: Engine) -> None:
    database.downgrade(engine, "0002")
    response = TestClient(_app(engine)).get("/readyz")
    assert response.status_code == 503 and "newswire migrate" in response.json()["detail"]


def test_the_api_is_read_only(client: TestClient) -> None:
    assert client.post("/v1/articles", json={}).status_code == 405
    assert client.delete(f"/v1/articles/{article(1).id}").status_code == 405


def test_the_api_keeps_to_its_own_openapi_schema(engine: Engine) -> None:
    """Every operation, with parameters schemathesis draws from the schema (valid ones and invalid
    ones): no 5xx, only documented status codes and content types, bodies that match their schemas.
    Driven by hand rather than by schemathesis's pytest plugin, whose lazy fixtures this pytest breaks."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", _app(engine, store_api_token="s3cret"))
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) == 11
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case: Any) -> None:
            # Excluded: "schema-valid data must be accepted". A cursor this API never issued, or
            # since >= until, is valid to the schema (OpenAPI cannot say either) and still a 400 here.
            case.call_and_validate(
                headers={"Authorization": "Bearer s3cret"}, excluded_checks=[positive_data_acceptance]
            )

        conforms()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", ["store", "api"])
def test_newswire_serves_the_api(engine: Engine, db_url: str, redis_url: str, namespace: str, command: str) -> None:
    """`newswire store` serves the API beside its loop; `newswire api` serves it alone."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update(
        NEWSWIRE_DB_URL=db_url,
        NEWSWIRE_REDIS_URL=redis_url,
        NEWSWIRE_REDIS_NAMESPACE=namespace,
        NEWSWIRE_STORE_METRICS_PORT="0",
        NEWSWIRE_STORE_API_PORT=str(port),
        NEWSWIRE_STORE_API_HOST="127.0.0.1",
    )
    process = subprocess.Popen([sys.executable, "-m", "services.cli", command], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, f"newswire {command} exited with {process.returncode}"
                assert time.monotonic() < deadline, "the API never answered"
                time.sleep(0.2)
        assert ready.json()["status"] == "ok"
        page = httpx.get(f"http://127.0.0.1:{port}/v1/articles", params={"limit": 5}, timeout=5).json()
        assert len(page["items"]) == 5 and page["next_cursor"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    if command == "store":
        assert process.returncode == 0  # SIGTERM stops the loop and the API with it
