"""The read API: what store has committed, over HTTP, described by OpenAPI at ``/openapi.json``.

Read-only by construction (every route is a GET over a read-only query). ``/healthz``, ``/readyz``
and ``/metrics`` are open, for probes and Prometheus; everything under ``/v1`` wants the bearer token
when ``NEWSWIRE_STORE_API_TOKEN`` is set. Every bad parameter is answered with a 4xx whose ``detail``
says what is wrong; page sizes are capped by ``NEWSWIRE_STORE_API_MAX_PAGE``.
"""

import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from services.store import database, queries
from services.store.api_models import (
    ArticleDetail,
    ArticlePage,
    EntityDetail,
    EntityPage,
    EventDetail,
    EventPage,
    Health,
    Problem,
    StoryDetail,
    StoryPage,
)
from services.store.errors import BadCursorError, SchemaOutOfDateError
from services.store.settings import StoreSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

REQUESTS = Counter(
    "newswire_store_api_requests_total", "Read API requests, by route template and status code.", ["route", "status"]
)
LATENCY = Histogram(
    "newswire_store_api_request_duration_seconds",
    "Read API response time, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A parameter is wrong; `detail` says which and why."},
    401: {"model": Problem, "description": "The bearer token is missing or wrong."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such thing is stored."}}
# Identifiers and free text: printable, of a sane length. PostgreSQL refuses NUL in text outright.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[str | None, Query(min_length=1, max_length=200, pattern=TEXT_PATTERN)]


def _bad(detail: str) -> HTTPException:
    return HTTPException(status_code=400, detail=detail)


def create_app(engine: Engine, settings: StoreSettings) -> FastAPI:
    app = FastAPI(
        title="Newswire read API",
        version="1",
        description="Articles, entities, events and stories that Newswire's store has committed. Read-only.",
    )
    max_page = settings.store_api_max_page
    # Type aliases of this app's parameters, named like the types they are.
    Limit = Annotated[int, Query(ge=1, le=max_page, description=f"Page size, at most {max_page}.")]  # noqa: N806
    Cursor = Annotated[  # noqa: N806
        str | None, Query(min_length=1, max_length=500, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor")
    ]
    bearer = HTTPBearer(auto_error=False, description="Set when NEWSWIRE_STORE_API_TOKEN is.")

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        token = settings.store_api_token
        if token is None:
            return
        if credentials is None or not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})

    def connection() -> Any:
        with engine.connect() as conn:
            yield conn

    Db = Annotated[Connection, Depends(connection)]  # noqa: N806
    # Without a token the schema declares no security, so that it says what the API does.
    guards = [Depends(authorised)] if settings.store_api_token is not None else []
    v1: dict[str, Any] = {"dependencies": guards, "responses": PROBLEMS}

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # One sentence per wrong parameter, instead of pydantic's nested structure.
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"][1:]) or str(error["loc"][0])
            parts.append(f"{where}: {error['msg']}")
        return JSONResponse(status_code=400, content={"detail": "; ".join(parts)})

    @app.exception_handler(BadCursorError)
    async def _cursor(_: Request, exc: BadCursorError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.middleware("http")
    async def _measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.monotonic()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        REQUESTS.labels(template, str(response.status_code)).inc()
        LATENCY.labels(template).observe(time.monotonic() - started)
        return response

    @app.get("/healthz", response_model=Health, tags=["operations"])
    def healthz() -> Health:
        """The process answers."""
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Health,
        tags=["operations"],
        responses={503: {"model": Health, "description": "The database is unreachable or its schema is old."}},
    )
    def readyz(response: Response) -> Health:
        """The database answers and its schema is the one this release reads."""
        try:
            database.check_schema(engine)
        except (SQLAlchemyError, SchemaOutOfDateError) as exc:
            response.status_code = 503
            return Health(status="unavailable", detail=str(exc).splitlines()[0])
        return Health(status="ok")

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def prometheus_metrics() -> Response:
        """Prometheus metrics of this store process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/articles", response_model=ArticlePage, tags=["articles"], **v1)
    def articles(
        db: Db,
        since: Annotated[dt.datetime | None, Query(description="Published at or after (ISO 8601)")] = None,
        until: Annotated[dt.datetime | None, Query(description="Published before (ISO 8601)")] = None,
        outlet: Text = None,
        language: Text = None,
        entity: Annotated[str | None, Query(min_length=1, max_length=128, pattern=TEXT_PATTERN)] = None,
        story: Annotated[str | None, Query(min_length=1, max_length=128, pattern=TEXT_PATTERN)] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> ArticlePage:
        """Articles, newest first; filter by publication time, outlet, language, entity or story."""
        if since is not None and until is not None and queries.utc(since) >= queries.utc(until):
            raise _bad("since must be earlier than until")
        return queries.list_articles(db, limit, cursor, since, until, outlet, language, entity, story)

    @app.get("/v1/articles/{article_id}", response_model=ArticleDetail, tags=["articles"], **_with_404(v1))
    def article(db: Db, article_id: Annotated[str, _path_id()]) -> ArticleDetail:
        """One article with its versions, feeds, mentions and reports of events."""
        return _found(queries.get_article(db, article_id), "article", article_id)

    @app.get("/v1/entities", response_model=EntityPage, tags=["entities"], **v1)
    def entities(
        db: Db,
        q: Annotated[
            str | None, Query(min_length=1, max_length=200, pattern=TEXT_PATTERN, description="Name or alias")
        ] = None,
        type: Annotated[str | None, Query(pattern="^(PER|ORG|LOC|MISC)$")] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> EntityPage:
        """Entities; search by any part of a name or alias, ignoring case."""
        return queries.list_entities(db, limit, cursor, q, type)

    @app.get("/v1/entities/{entity_id}", response_model=EntityDetail, tags=["entities"], **_with_404(v1))
    def entity(db: Db, entity_id: Annotated[str, _path_id()]) -> EntityDetail:
        """One entity with its aliases, how often it is mentioned, and the latest events it took part in."""
        return _found(queries.get_entity(db, entity_id), "entity", entity_id)

    @app.get("/v1/events", response_model=EventPage, tags=["events"], **v1)
    def events(
        db: Db,
        type: Text = None,
        sub_type: Text = None,
        place: Annotated[str | None, Query(min_length=1, max_length=128, pattern=TEXT_PATTERN)] = None,
        actor: Annotated[str | None, Query(min_length=1, max_length=128, pattern=TEXT_PATTERN)] = None,
        date_from: Annotated[dt.date | None, Query(description="On or after (YYYY-MM-DD)")] = None,
        date_to: Annotated[dt.date | None, Query(description="On or before (YYYY-MM-DD)")] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> EventPage:
        """Events, newest first; filter by type, place, actor and date range."""
        if date_from is not None and date_to is not None and date_from > date_to:
            raise _bad("date_from must not be after date_to")
        return queries.list_events(db, limit, cursor, type, sub_type, place, actor, date_from, date_to)

    @app.get("/v1/events/{event_id}", response_model=EventDetail, tags=["events"], **_with_404(v1))
    def event(db: Db, event_id: Annotated[str, _path_id()]) -> EventDetail:
        """One event with every source that reported it, each with its own figures."""
        return _found(queries.get_event(db, event_id), "event", event_id)

    @app.get("/v1/stories", response_model=StoryPage, tags=["stories"], **v1)
    def stories(db: Db, cursor: Cursor = None, limit: Limit = 50) -> StoryPage:
        """Stories, most recently updated first."""
        return queries.list_stories(db, limit, cursor)

    @app.get("/v1/stories/{story_id}", response_model=StoryDetail, tags=["stories"], **_with_404(v1))
    def story(db: Db, story_id: Annotated[str, _path_id()]) -> StoryDetail:
        """One story as a timeline, outlet by outlet, in the order the outlets first reported it."""
        return _found(queries.get_story(db, story_id), "story", story_id)

    return app


def _path_id() -> Any:
    from fastapi import Path

    return Path(min_length=1, max_length=128, pattern=TEXT_PATTERN)


def _with_404(v1: dict[str, Any]) -> dict[str, Any]:
    return {**v1, "responses": {**PROBLEMS, **NOT_FOUND}}


def _found(value: T | None, kind: str, thing_id: str) -> T:
    if value is None:
        raise HTTPException(404, f"no {kind} with id {thing_id!r}")
    return value


def serve_in_thread(engine: Engine, settings: StoreSettings, stop: threading.Event) -> threading.Thread:
    """Serve the API beside the store loop; it stops when ``stop`` is set. A port that cannot be
    bound is logged, and the store goes on storing: the API is a reader, not the writer."""
    import uvicorn

    config = uvicorn.Config(
        create_app(engine, settings),
        host=settings.store_api_host,
        port=settings.store_api_port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)

    def _serve() -> None:
        try:
            server.run()
        except SystemExit:
            log.error("read API could not start", extra={"port": settings.store_api_port})

    def _stop() -> None:
        stop.wait()
        server.should_exit = True

    thread = threading.Thread(target=_serve, name="store-api", daemon=True)
    thread.start()
    threading.Thread(target=_stop, name="store-api-stop", daemon=True).start()
    log.info("read API starting", extra={"port": settings.store_api_port})
    return thread
