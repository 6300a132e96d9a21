"""Events: what happened, where, when, to whom and how many, read sentence by sentence.

For each sentence of the body (and the title) that meets a rule of :mod:`taxonomy`:
- the place is a linked place named in the sentence, the most specific (town before state before
  country) and, among those, the nearest to the cue; a place given only as a bearing ("75 km east
  of Myitkyina") or as an exception ("aside from Kanpaiti") is never the place. No place, no event:
  ACLED codes none without a location;
- the date is the date expression nearest the cue (:mod:`dates`), else none yet;
- actors are the organisations and people named before the cue, targets those after it;
- counts are read from the sentence (:mod:`counts`).

Then, within one article, reports of the same event type at the same place are one happening unless
they carry two different dates of day precision: a capture "last week", "the fall of" a town and its
capture "on November 20" are one event dated November 20, the most precise date given; the most
specific sub-type wins (the capture over the clash that led to it). Figures given in sentences with
no event of their own ("around 300 soldiers fled into China") go to the article's main event when
they name none of its other events' places. A report with no date that joins no dated one is
dropped: ACLED codes no event without a date, and a guessed one would merge unrelated happenings.

An event's id is a hash of (type, place, date, precision), never of the article: every outlet that
reports the same happening on the same day at the same place gives it the same id, and store merges
their reports into one event with several sources.
"""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from services.common.schema import DatePrecision, Entity, Event, EventCounts, Mention
from services.extract import counts as counting
from services.extract.dates import DateRef, find_dates, is_background
from services.extract.taxonomy import BASE_CONFIDENCE, BATTLES, classify

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:Col|Gen|Sen|Lt|Maj|Capt|Mr|Mrs|Ms|Dr|St|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|Brig|Cmdr|Gov|Rep|vs|etc)|\b[A-Z])\.$"
)
_BOUNDARY = re.compile(r"(?<=[.!?…])[”\"’]?\s+(?=[“\"‘(]?[A-Z0-9])|\n\s*\n")
_BEARING = re.compile(
    r"(?:\b(?:north|south|east|west)(?:[- ]?(?:north|south|east|west))?(?:ern)?\s+of\s+"
    r"(?:the\s+)?(?:[\w-]+[\s,]+){0,3}|"
    r"\b(?:kilometers|kilometres|km|miles)\b[^.]{0,40}\b(?:of|from)\s+(?:the\s+)?(?:[\w-]+[\s,]+){0,3}|"
    r"\b(?:aside from|apart from|except(?: for)?|besides|other than)\s+(?:the\s+)?(?:[\w-]+\s+){0,2})$",
    re.IGNORECASE,
)
_SUB_TYPE_RANK = {
    "Non-state actor overtakes territory": 3,
    "Government regains territory": 3,
    "Armed clash": 1,
}
_PRECISION_RANK: dict[DatePrecision | None, int] = {"day": 4, "week": 3, "month": 2, "year": 1, None: 0}
_KIND_RANK = {"town": 3, "city": 3, "admin1": 1, "country": 0}


@dataclass(frozen=True)
class Sentence:
    field: str
    start: int
    end: int
    text: str


def sentences(text: str, field: str = "body") -> list[Sentence]:
    """The text cut into sentences, with their offsets; abbreviations ("Col.", "Nov.") do not end one."""
    found: list[Sentence] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        candidate = text[start : boundary.start()].rstrip()
        if _ABBREVIATIONS.search(candidate):
            continue
        if candidate.strip():
            found.append(Sentence(field, start, boundary.start(), text[start : boundary.start()]))
        start = boundary.end()
    if text[start:].strip():
        found.append(Sentence(field, start, len(text), text[start:]))
    return found


@dataclass
class _Report:
    """One sentence's reading, before the article's reports are merged."""

    type: str
    sub_type: str
    place: Entity
    date: DateRef | None
    actors: list[str]
    targets: list[str]
    counts: EventCounts
    evidence: str
    order: int
    support: int = 1
    evidences: list[str] = field(default_factory=list)


def extract_events(
    title: str,
    body: str,
    published: dt.datetime,
    mentions: list[Mention],
    entities: list[Entity],
) -> list[Event]:
    by_id = {e.id: e for e in entities}
    published_day = published.date()
    reports: list[_Report] = []
    loose_counts: list[tuple[Sentence, EventCounts, set[str]]] = []
    units = sentences(title, "title") + sentences(body, "body")
    for order, sentence in enumerate(units):
        inside = [
            m
            for m in mentions
            if m.field == sentence.field and m.entity_id and sentence.start <= m.start and m.end <= sentence.end
        ]
        figures = counting.find_counts(sentence.text)
        places = {m.entity_id for m in inside if m.entity_id and by_id[m.entity_id].type == "LOC"}
        found = None if is_background(sentence.text) else classify(sentence.text)
        if found is None:
            if any(v is not None for v in figures.model_dump().values()):
                loose_counts.append((sentence, figures, {p for p in places if p}))
            continue
        rule, cue = found
        cue_at = sentence.start + cue.start()
        place = _place(sentence, inside, by_id, cue_at, body if sentence.field == "body" else title)
        if place is None:
            continue
        dates = find_dates(sentence.text, published_day)
        date = min(dates, key=lambda d: abs(d.start - cue.start())) if dates else None
        actors: list[str] = []
        targets: list[str] = []
        for m in inside:
            entity = by_id[m.entity_id or ""]
            if entity.type != "ORG":
                continue  # ACLED's actors are groups; people named in a sentence are mostly sources
            (actors if m.start < cue_at else targets).append(entity.id)
        reports.append(
            _Report(
                type=rule.type,
                sub_type=rule.sub_type,
                place=place,
                date=date,
                actors=list(dict.fromkeys(actors)),
                targets=list(dict.fromkeys(t for t in targets if t not in actors)),
                counts=figures,
                evidence=" ".join(sentence.text.split()),
                order=order,
            )
        )
    # ACLED codes no event without a date: an undated report only supports a dated one.
    merged = [r for r in _merge(reports) if r.date is not None]
    if merged:
        _attach_loose_counts(merged, loose_counts)
    return [_event(r) for r in merged]


def _place(
    sentence: Sentence, inside: list[Mention], by_id: dict[str, Entity], cue_at: int, text: str
) -> Entity | None:
    best: tuple[tuple[int, int], Entity] | None = None
    for mention in inside:
        entity = by_id[mention.entity_id or ""]
        if entity.type != "LOC":
            continue
        before = text[max(sentence.start, mention.start - 60) : mention.start]
        if _BEARING.search(before):
            continue
        kind = 3 if entity.gazetteer_id is None and entity.country is None else _kind(entity)
        if mention.text.split()[-1].lower() in ("township", "district", "state", "region", "division", "province"):
            kind = 1  # "Waingmaw Township": the area around, less specific than a town named in it
        if kind == 0:
            continue  # a whole country is no place for an event: too coarse to tell happenings apart
        rank = (kind, -abs(mention.start - cue_at))
        if best is None or rank > best[0]:
            best = (rank, entity)
    return best[1] if best else None


def _kind(entity: Entity) -> int:
    if entity.admin_area is None and entity.country is not None and entity.latitude is None:
        return 0  # a country
    if entity.admin_area is not None and entity.name.endswith((" State", " Region", " Province")):
        return 1
    return 3


def _compatible(a: DateRef | None, b: DateRef | None) -> bool:
    """Could these two dates be the same day? Day against day must be equal; a week covers the two
    weeks around it (news writers' "last week" is loose), a month its month, a year its year."""
    if a is None or b is None:
        return True
    if a.precision == "day" and b.precision == "day":
        return a.date == b.date
    day, other = (a, b) if _PRECISION_RANK[a.precision] >= _PRECISION_RANK[b.precision] else (b, a)
    if other.precision == "week":
        return abs((day.date - other.date).days) <= 14
    if other.precision == "month":
        return (day.date.year, day.date.month) == (other.date.year, other.date.month)
    return day.date.year == other.date.year


def _merge(reports: list[_Report]) -> list[_Report]:
    merged: list[_Report] = []
    # Most precise dates first, so less precise reports join a dated one.
    for report in sorted(reports, key=lambda r: (-_PRECISION_RANK[r.date.precision if r.date else None], r.order)):
        target = next(
            (
                m
                for m in merged
                if m.type == report.type
                and m.place.id == report.place.id
                and (m.type == BATTLES or m.sub_type == report.sub_type)
                and _compatible(m.date, report.date)
            ),
            None,
        )
        if target is None:
            report.evidences = [report.evidence]
            merged.append(report)
            continue
        if _SUB_TYPE_RANK.get(report.sub_type, 2) > _SUB_TYPE_RANK.get(target.sub_type, 2):
            target.sub_type = report.sub_type
            # The evidence is the sentence that gives the sub-type, unless it dates the event less
            # precisely than the sentence already chosen.
            if target.date is None or (report.date is not None and report.date.precision == target.date.precision):
                target.evidence = report.evidence
        if target.date is None and report.date is not None:
            target.date = report.date
        target.actors = list(dict.fromkeys(target.actors + report.actors))
        target.targets = list(dict.fromkeys(t for t in target.targets + report.targets if t not in target.actors))
        target.counts = counting.merge(target.counts, report.counts)
        target.support += 1
        target.order = min(target.order, report.order)
        target.evidences.append(report.evidence)
    return sorted(merged, key=lambda r: r.order)


def _attach_loose_counts(merged: list[_Report], loose: list[tuple[Sentence, EventCounts, set[str]]]) -> None:
    main = max(merged, key=lambda r: (r.support, -r.order))
    other_places = {r.place.id for r in merged if r is not main}
    for _, figures, places in loose:
        if places & other_places:
            continue
        main.counts = counting.merge(main.counts, figures)


def event_id(type_: str, sub_type: str, place_id: str, date: dt.date, precision: str) -> str:
    """The same (type, place, date) gives the same id in every worker and every article. Battles
    share one id across sub-types: a clash reported by one outlet and the capture it ended in,
    reported by another on the same day at the same place, are one happening."""
    kind = type_ if type_ == BATTLES else f"{type_}/{sub_type}"
    digest = hashlib.sha256(f"{kind}|{place_id}|{date.isoformat()}|{precision}".encode()).hexdigest()
    return f"ev:{digest[:24]}"


def _event(report: _Report) -> Event:
    assert report.date is not None  # undated reports were dropped
    date, precision = report.date.date, report.date.precision
    confidence = BASE_CONFIDENCE
    confidence += 0.15 if report.place.gazetteer_id else 0.05
    confidence += 0.15 if precision == "day" else 0.05
    confidence += 0.1 if report.actors else 0.0
    confidence += min(0.1, 0.05 * (report.support - 1))
    return Event(
        id=event_id(report.type, report.sub_type, report.place.id, date, precision),
        type=report.type,
        sub_type=report.sub_type,
        actors=report.actors,
        targets=report.targets,
        place_id=report.place.id,
        date=date,
        date_precision=precision,
        counts=report.counts,
        evidence=report.evidence[:1000],
        confidence=round(min(confidence, 0.95), 2),
    )
