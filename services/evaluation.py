"""``newswire eval``: extraction quality against a gold set, as precision, recall and F1.

A gold folder holds a feed registry (``feeds.yaml``, local feed files as ingest reads them) and the
annotations (``gold.yaml``); tests/gold/README.md documents the format. The articles run through the
same code as the extract worker (NER, linking, events, stories), in order of publication, with the
linking and story state in memory. Scores:

- linking: B-cubed over the annotated mentions (article, surface text), clustered by the gold entity
  and by the entity each was linked to; a wrong merge costs precision, a missed link recall;
- event type, event place, event date: precision and recall of (article, type, sub-type), (article,
  type, place) and (article, type, date, precision) against the annotated events;
- event merge: B-cubed over the gold events that were found, clustered by happening (type, place,
  date) and by event id: do all outlets' reports of one happening get one id?
- story: B-cubed over articles, clustered by gold story and by story id;
- counts: the share of annotated figures found, on events whose type and place were found.

This module puts ingest's parser and extract's pipeline together, as ``launch`` does for ``run``.
"""

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from services.common.errors import NewswireError
from services.common.schema import Article, TaggedArticle
from services.extract.analyse import Analyser
from services.extract.encoder import Encoder
from services.extract.gazetteer import Gazetteer
from services.extract.registry import MemoryRegistry
from services.extract.stories import Stories
from services.extract.surface import name_key
from services.extract.taggers import NerTagger
from services.ingest.feeds import load_registry
from services.ingest.normalise import normalise
from services.ingest.parse import parse_feed


class GoldError(NewswireError):
    """The gold folder is missing a file or is malformed; the message says where."""


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def load_articles(folder: Path) -> list[Article]:
    """The gold folder's articles, parsed and normalised as ingest does, oldest first."""
    fetched = datetime(2030, 1, 1, tzinfo=UTC)  # any fixed time: the feeds carry their own dates
    articles = []
    for feed in load_registry(folder / "feeds.yaml"):
        path = folder / feed.url
        if not path.is_file():
            raise GoldError(f"{path}: feed file named in feeds.yaml is missing")
        parsed = parse_feed(path.read_bytes())
        for entry in parsed.entries:
            article = normalise(entry, feed, fetched, parsed.link, parsed.language)
            if article is not None:
                articles.append(article)
    return sorted(articles, key=lambda a: (a.published_at, a.url))


def load_gold(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "gold.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoldError(f"{path}: cannot read the annotations: {exc}") from None
    except yaml.YAMLError as exc:
        raise GoldError(f"{path}: not valid YAML: {exc}") from None
    articles = document.get("articles") if isinstance(document, dict) else None
    if not isinstance(articles, dict):
        raise GoldError(f"{path}: expected a top-level 'articles:' mapping of URL to annotation")
    for url, annotation in articles.items():
        if not isinstance(annotation, dict) or "story" not in annotation:
            raise GoldError(f"{path}: article {url}: expected a mapping with at least 'story'")
    return articles


def run(folder: Path, tagger: NerTagger, encoder: Encoder | None) -> list[TaggedArticle]:
    registry = MemoryRegistry()
    analyser = Analyser.build(Gazetteer.load(), registry, Stories(registry, encoder))
    return [analyser.tag(article, tagger) for article in load_articles(folder)]


# -- scoring ---------------------------------------------------------------------------------------


def bcubed(gold: dict[Hashable, Hashable], predicted: dict[Hashable, Hashable]) -> Score:
    """B-cubed precision and recall of a clustering of the same items (Bagga and Baldwin, 1998)."""
    items = list(gold)
    if not items:
        return Score(1.0, 1.0)
    by_gold: dict[Hashable, set[Hashable]] = {}
    by_pred: dict[Hashable, set[Hashable]] = {}
    for item in items:
        by_gold.setdefault(gold[item], set()).add(item)
        by_pred.setdefault(predicted[item], set()).add(item)
    precision = recall = 0.0
    for item in items:
        same_gold, same_pred = by_gold[gold[item]], by_pred[predicted[item]]
        both = len(same_gold & same_pred)
        precision += both / len(same_pred)
        recall += both / len(same_gold)
    return Score(precision / len(items), recall / len(items))


def overlap(gold: Iterable[Hashable], predicted: Iterable[Hashable]) -> Score:
    g, p = Counter(gold), Counter(predicted)
    hits = sum((g & p).values())
    total_p, total_g = sum(p.values()), sum(g.values())
    return Score(hits / total_p if total_p else 1.0, hits / total_g if total_g else 1.0)


def _keys(text: str, label: str = "PER") -> set[str]:
    return {name_key(text), name_key(text, label)} - {""}


def _gold_date(value: object) -> tuple[str, str]:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return (
        (text, "day") if len(text) == 10 else (f"{text}-01", "month") if len(text) == 7 else (f"{text}-01-01", "year")
    )


def score(tagged: list[TaggedArticle], gold: dict[str, dict[str, Any]]) -> dict[str, Any]:
    by_url = {t.article.url: t for t in tagged}
    missing = sorted(set(gold) - set(by_url))
    if missing:
        raise GoldError(f"annotated articles not found in the feeds: {', '.join(missing[:5])}")
    # Linking: each annotated surface, and the entity its mentions were linked to.
    gold_links: dict[Hashable, Hashable] = {}
    pred_links: dict[Hashable, Hashable] = {}
    for url, annotation in gold.items():
        article = by_url[url]
        for surface, entity in (annotation.get("entities") or {}).items():
            wanted = _keys(surface)
            linked = Counter(
                m.entity_id for m in article.mentions if m.entity_id and _keys(m.text, m.label) & wanted
            ).most_common(1)
            gold_links[(url, surface)] = entity
            pred_links[(url, surface)] = linked[0][0] if linked else ("unlinked", url, surface)
    # Predicted entity ids, as gold entities: the gold entity most of their annotated mentions carry.
    votes: dict[Hashable, Counter[Hashable]] = {}
    for item, predicted in pred_links.items():
        votes.setdefault(predicted, Counter())[gold_links[item]] += 1
    as_gold = {predicted: counter.most_common(1)[0][0] for predicted, counter in votes.items()}

    types_g, types_p, places_g, places_p, dates_g, dates_p = [], [], [], [], [], []
    merge_gold: dict[Hashable, Hashable] = {}
    merge_pred: dict[Hashable, Hashable] = {}
    figures_found = figures_total = 0
    for url, annotation in gold.items():
        article = by_url[url]
        for index, event in enumerate(annotation.get("events") or []):
            date, precision = _gold_date(event["date"])
            types_g.append((url, event["type"], event["sub_type"]))
            places_g.append((url, event["type"], event["place"]))
            dates_g.append((url, event["type"], date, precision))
            found = [
                e
                for e in article.events
                if e.type == event["type"] and as_gold.get(e.place_id or "", e.place_id) == event["place"]
            ]
            if found:
                merge_gold[(url, index)] = (event["type"], event["place"], date)
                merge_pred[(url, index)] = found[0].id
            for field, value in (event.get("counts") or {}).items():
                figures_total += 1
                figures_found += bool(found) and getattr(found[0].counts, field) == value
        for e in article.events:
            types_p.append((url, e.type, e.sub_type))
            places_p.append((url, e.type, as_gold.get(e.place_id or "", e.place_id)))
            dates_p.append((url, e.type, e.date.isoformat() if e.date else None, e.date_precision))
    stories_g = {url: annotation["story"] for url, annotation in gold.items()}
    stories_p = {url: by_url[url].story_id or ("none", url) for url in gold}
    return {
        "articles": len(gold),
        "linking": bcubed(gold_links, pred_links).as_dict(),
        "event_type": overlap(types_g, types_p).as_dict(),
        "event_place": overlap(places_g, places_p).as_dict(),
        "event_date": overlap(dates_g, dates_p).as_dict(),
        "event_merge": bcubed(merge_gold, merge_pred).as_dict(),
        "story": bcubed(stories_g, stories_p).as_dict(),  # type: ignore[arg-type]
        "counts_found": round(figures_found / figures_total, 4) if figures_total else 1.0,
    }


def table(scores: dict[str, Any]) -> str:
    lines = [f"{'measure':<14} {'precision':>9} {'recall':>7} {'F1':>7}"]
    for name in ("linking", "event_type", "event_place", "event_date", "event_merge", "story"):
        s = scores[name]
        lines.append(f"{name:<14} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>7.3f}")
    lines.append(f"counts found: {scores['counts_found']:.3f} of annotated figures; {scores['articles']} articles")
    return "\n".join(lines)
