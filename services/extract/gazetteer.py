"""The places gazetteer: names and spellings of places, with coordinates and administrative area.

Two files ship in ``services/extract/data/`` (licences and attribution in ``data/README.md``):
``geonames.json``, built from GeoNames by ``scripts/build_gazetteer.py`` (CC BY 4.0), and
``places.json``, Newswire's own short list of the states and border towns GeoNames' cities500 lacks,
with the spellings in common use; an entry with ``same_as`` only adds names to a GeoNames entry.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from services.extract import similarity
from services.extract.surface import name_key

DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Place:
    id: str
    name: str
    aliases: list[str]
    latitude: float | None
    longitude: float | None
    admin_area: str | None
    country: str | None
    kind: str
    population: int = 0
    keys: set[str] = field(default_factory=set)


class Gazetteer:
    def __init__(self, places: list[Place]) -> None:
        self.places = {p.id: p for p in places}
        self._by_key: dict[str, list[Place]] = {}
        for place in places:
            for name in [place.name, *place.aliases]:
                key = name_key(name)
                if key:
                    place.keys.add(key)
            for key in place.keys:
                self._by_key.setdefault(key, []).append(place)
        self._keys = list(self._by_key)

    @classmethod
    def load(cls, folder: Path = DATA) -> "Gazetteer":
        places: dict[str, Place] = {}
        for document in ("geonames.json", "places.json"):
            for raw in json.loads((folder / document).read_text(encoding="utf-8"))["places"]:
                target = places.get(raw.get("same_as", ""))
                if target is not None:
                    target.aliases.extend(a for a in [raw["name"], *raw["aliases"]] if a not in target.aliases)
                    continue
                places[raw["id"]] = Place(
                    id=raw["id"],
                    name=raw["name"],
                    aliases=list(raw.get("aliases") or []),
                    latitude=raw.get("lat"),
                    longitude=raw.get("lon"),
                    admin_area=raw.get("admin_area"),
                    country=raw.get("country"),
                    kind=raw.get("kind", "city"),
                    population=int(raw.get("population") or 0),
                )
        return cls(list(places.values()))

    def exact(self, key: str, context: "PlaceContext | None" = None) -> Place | None:
        """The place this key names exactly; among several, the one the article's context favours,
        then the largest."""
        found = self._by_key.get(key, [])
        if not found:
            # "Momauk Township", "Shwebo town": the place itself when the gazetteer has no such entry.
            for suffix in _PLACE_SUFFIXES:
                if key.endswith(suffix) and len(key) - len(suffix) >= 3:
                    found = self._by_key.get(key.removesuffix(suffix), [])
                    break
        if not found:
            return None
        return max(found, key=lambda p: ((context.affinity(p) if context else 0), _rank(p)))

    def fuzzy(self, key: str, context: "PlaceContext") -> tuple[Place, float] | None:
        """The place whose spelling is close enough to ``key`` (see :mod:`similarity`), constrained by
        context: it must lie in an administrative area (a state, a region) that the article names. A
        transliteration of a town in Kachin State is taken for that town only when the article
        speaks of Kachin State; elsewhere a close spelling is left unmatched."""
        if len(key) < similarity.MIN_FUZZY_LENGTH:
            return None
        # rapidfuzz's C scorer narrows twenty thousand spellings to a handful before the full score.
        shortlist = process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=65, limit=20)
        best: tuple[Place, float] | None = None
        for candidate_key, _, _ in shortlist:
            if not similarity.similar(key, candidate_key):
                continue
            value = similarity.score(key, candidate_key)
            for place in self._by_key[candidate_key]:
                if context.affinity(place) < 2 or place.kind == "country":
                    continue
                ranked = value + context.affinity(place)
                if best is None or ranked > best[1]:
                    best = (place, ranked)
        return best


_PLACE_SUFFIXES = ("township", "district", "town", "village", "city")


def _rank(place: Place) -> tuple[int, int]:
    kinds = {"country": 3, "admin1": 2}
    return (kinds.get(place.kind, 1), place.population)


@dataclass
class PlaceContext:
    """What an article says about where it is: countries and administrative areas it names."""

    countries: set[str] = field(default_factory=set)
    admin_areas: set[str] = field(default_factory=set)

    def add(self, place: Place) -> None:
        if place.country:
            self.countries.add(place.country)
        if place.kind == "admin1" and place.admin_area:
            self.admin_areas.add(place.admin_area)

    def affinity(self, place: Place) -> int:
        """2 when the place lies in an administrative area the article names, 1 when only its country
        is named, 0 otherwise."""
        area = place.admin_area or ""
        if any(area == a or area.endswith(", " + a) for a in self.admin_areas):
            return 2
        return 1 if place.country in self.countries else 0
