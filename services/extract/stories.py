"""Stories: articles from any outlet that report the same happening share a story id.

Text similarity alone does not separate stories (the same armed group fighting in two districts in
the same month reads alike), so the decision rests on what extraction found, in this order:
1. the article was assigned before (a redelivered task): the same story;
2. it reports an event (same type, place and day, so the same event id) that a story already holds:
   that story, however long ago it began;
3. a story active within the time window (``story_window_days`` before the article's publication)
   holds an event of the same type at the same place within ``DATE_SLACK_DAYS`` days (outlets
   disagree on the day by one or two) and reads alike (cosine ≥ ``SIMILAR_WITH_PLACE``); an air
   strike on a town a month after its capture is another story;
4. a story active within the window that shares a place the article names and most of its people
   and organisations, and reads very alike (≥ ``SIMILAR_WITHOUT_EVENT``): a follow-up with no event;
5. otherwise a new story, whose id derives from the article's id.

The state (each story's events, places, entities, sentence vector and dates) lives in the shared
registry, and assignment runs under its lock, so two workers never open two stories for one event.
"""

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field

from services.common.schema import Article, Entity, Event
from services.extract.encoder import Encoder, cosine
from services.extract.registry import Registry

SIMILAR_WITH_PLACE = 0.35
DATE_SLACK_DAYS = 3
SIMILAR_WITHOUT_EVENT = 0.6
# Share of the smaller article's named people and organisations a follow-up must have in common.
ENTITY_OVERLAP = 0.4
# Entities kept per story to compare with; the most often seen.
KEEP_ENTITIES = 50


@dataclass
class StoryState:
    id: str
    first_published: str
    last_published: str
    articles: int = 0
    event_ids: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    # "type|place id|date" of every event the story holds.
    happenings: list[str] = field(default_factory=list)
    entities: dict[str, int] = field(default_factory=dict)
    vector: list[float] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "StoryState":
        return cls(**json.loads(text))


def _article_key(article_id: str) -> str:
    return f"article:{article_id}"


class Stories:
    def __init__(self, registry: Registry, encoder: Encoder | None, window_days: int = 21) -> None:
        self._registry = registry
        self._encoder = encoder
        self._window = dt.timedelta(days=window_days)

    def assign(self, article: Article, entities: list[Entity], events: list[Event]) -> str:
        vector = self._encoder.encode(f"{article.title}. {article.body_text[:1500]}") if self._encoder else None
        places = sorted({e.place_id for e in events if e.place_id})
        named = {e.id for e in entities if e.type in ("PER", "ORG")}
        mentioned_places = {e.id for e in entities if e.type == "LOC" and not _is_country(e)}
        dated = [e for e in events if e.date is not None]
        event_keys = [e.id for e in dated if e.date_precision in ("day", "week")]
        with self._registry.lock():
            bound = self._registry.story_for_events([_article_key(article.id), *event_keys])
            story_id = bound.get(_article_key(article.id))
            if story_id is not None:
                return story_id  # assigned before: a redelivered task changes nothing
            if bound:
                story_id = max(set(bound.values()), key=list(bound.values()).count)
            # Only stories still within the window are compared; one joined by a shared event is
            # read whatever its age ("a story can grow for weeks").
            since = (article.published_at - self._window).timestamp()
            wanted = self._registry.active_stories(since) + ([story_id] if story_id else [])
            states = {k: StoryState.from_json(v) for k, v in self._registry.stories(wanted).items()}
            if story_id is None:
                story_id = self._similar(article, states, places, dated, named, mentioned_places, vector)
            if story_id is None:
                story_id = "story:" + hashlib.sha256(article.id.encode()).hexdigest()[:24]
            for key in [_article_key(article.id), *event_keys]:
                self._registry.bind_story(key, story_id)
            state = states.get(story_id) or StoryState(
                story_id, article.published_at.isoformat(), article.published_at.isoformat()
            )
            self._update(state, article, events, entities, vector)
            last = dt.datetime.fromisoformat(state.last_published).timestamp()
            self._registry.save_story(story_id, state.to_json(), last)
        return story_id

    def _similar(
        self,
        article: Article,
        states: dict[str, StoryState],
        places: list[str],
        events: list[Event],
        named: set[str],
        mentioned_places: set[str],
        vector: list[float] | None,
    ) -> str | None:
        published = article.published_at
        best: tuple[float, str] | None = None
        for state in states.values():
            last = dt.datetime.fromisoformat(state.last_published)
            first = dt.datetime.fromisoformat(state.first_published)
            if published - last > self._window or first - published > self._window:
                continue
            text = cosine(vector, state.vector) if vector is not None and state.vector is not None else None
            if self._same_happening(events, state):
                if text is None or text >= SIMILAR_WITH_PLACE:
                    value = 1.0 + (text or 0.0)
                    if best is None or value > best[0]:
                        best = (value, state.id)
                continue
            # A follow-up with no event of its own; an article reporting another happening at the
            # same place (an air strike a month after the capture) is another story.
            if events or text is None or text < SIMILAR_WITHOUT_EVENT:
                continue
            if not (mentioned_places & set(state.places)):
                continue
            known = set(state.entities)
            if named and len(named & known) / len(named) >= ENTITY_OVERLAP and (best is None or text > best[0]):
                best = (text, state.id)
        return best[1] if best else None

    @staticmethod
    def _same_happening(events: list[Event], state: StoryState) -> bool:
        for happening in state.happenings:
            kind, place, day = happening.split("|")
            for event in events:
                if (
                    event.type == kind
                    and event.place_id == place
                    and event.date is not None
                    and abs((event.date - dt.date.fromisoformat(day)).days) <= DATE_SLACK_DAYS
                ):
                    return True
        return False

    @staticmethod
    def _update(
        state: StoryState, article: Article, events: list[Event], entities: list[Entity], vector: list[float] | None
    ) -> None:
        published = article.published_at.isoformat()
        state.first_published = min(state.first_published, published, key=dt.datetime.fromisoformat)
        state.last_published = max(state.last_published, published, key=dt.datetime.fromisoformat)
        state.articles += 1
        state.event_ids = sorted(set(state.event_ids) | {e.id for e in events})
        state.places = sorted(set(state.places) | {e.place_id for e in events if e.place_id})
        state.happenings = sorted(
            set(state.happenings) | {f"{e.type}|{e.place_id}|{e.date.isoformat()}" for e in events if e.date}
        )
        for entity in entities:
            if entity.type in ("PER", "ORG"):
                state.entities[entity.id] = state.entities.get(entity.id, 0) + 1
        state.entities = dict(sorted(state.entities.items(), key=lambda kv: -kv[1])[:KEEP_ENTITIES])
        if vector is not None:
            if state.vector is None:
                state.vector = vector
            else:
                # A running mean, renormalised: the story's centre moves with what is written about it.
                n = state.articles
                mean = [(a * (n - 1) + b) / n for a, b in zip(state.vector, vector, strict=True)]
                norm = sum(x * x for x in mean) ** 0.5 or 1.0
                state.vector = [round(x / norm, 5) for x in mean]


def _is_country(entity: Entity) -> bool:
    return entity.admin_area is None and entity.country is not None and entity.latitude is None
