"""Entity linking: every mention of an article to a canonical entity with a stable id.

In order, for each article:
1. Mentions are cleaned into names (``surface.clean``) and keys (``surface.name_key``); lower-case
   mentions are not names and stay unlinked ("muse" is not Muse).
2. Types are settled: an acronym the text defines takes its long form's type; a mention the NER
   model called a person or organisation is taken for a place only when the gazetteer knows the name
   exactly *and* the text uses it as a place ("for Kan Paik Ti town", "to Naypyitaw", "Shan State").
3. Mentions that name the same thing within the article are grouped: same type and key, an acronym
   with its long form ("Kachin Independence Army, or KIA"), a person's shorter name with the full
   one ("Suu Kyi" with "Aung San Suu Kyi").
4. Each group is resolved, under the shared lock: by a key already bound in the registry; for places
   by the gazetteer, exactly, then by fuzzy and phonetic match constrained by the article's country
   and state; for places not in the gazetteer, and people and organisations, by a fuzzy match against
   entities already known of the same type (names of eight letters or more only: short names differ
   by a letter too often); else a new entity is minted. The keys seen are then bound to its id.

Types never cross: "Shan" the state is not the "Shan State Army". Nothing is merged on a partial
match: "Shan" is not "Shan State Army" however many letters they share.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from services.common.schema import Entity, EntityLabel, Mention, TextField
from services.extract import similarity
from services.extract.gazetteer import Gazetteer, Place, PlaceContext
from services.extract.registry import Registry
from services.extract.surface import (
    acronym_definitions,
    clean,
    fold,
    is_acronym,
    looks_like_a_name,
    name_key,
)

# Words around a name that say it is a place.
_PLACE_BEFORE = re.compile(
    r"\b(?:in|at|from|to|into|near|toward|towards|outside|around|of|northern|southern|eastern|western|"
    r"central|town of|village of|city of)\s*$",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(
    r"^\s*(?:town|village|township|city|state|region|district|province|border|crossing|gate)\b", re.IGNORECASE
)
# A name followed by one of these is a place whatever the NER model said ("Sadone town").
_PLACE_NOUN_AFTER = re.compile(r"^\s*(?:town|village|township)\b", re.IGNORECASE)
_PLACE_WORDS = {"state", "region", "province", "township", "district", "division"}
FUZZY_MIN_LENGTH_NON_PLACE = 8
_ACRONYM_TOKEN = re.compile(r"\b[A-Z][A-Z-]{0,8}[A-Z]\b")


@dataclass
class _Group:
    label: EntityLabel
    keys: set[str] = field(default_factory=set)
    names: Counter[str] = field(default_factory=Counter)
    acronyms: set[str] = field(default_factory=set)
    mention_indexes: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        # The longest of the most used spellings, never a bare acronym when a long form is known.
        spelled = [n for n in self.names if not is_acronym(n)] or list(self.names)
        return max(spelled, key=lambda n: (self.names[n], len(n)))


@dataclass(frozen=True)
class Linked:
    mentions: list[Mention]
    entities: list[Entity]


class Linker:
    def __init__(self, gazetteer: Gazetteer, registry: Registry) -> None:
        self._gazetteer = gazetteer
        self._registry = registry

    def link(self, title: str, body: str, mentions: list[Mention]) -> Linked:
        texts: dict[TextField, str] = {"title": title, "body": body}
        definitions = acronym_definitions(title) | acronym_definitions(body)
        mentions = mentions + _repeated(texts, mentions)
        mentions = mentions + self._acronyms(texts, mentions, definitions)
        names = [clean(m.text, m.label) for m in mentions]
        labels = self._settle_types(texts, mentions, names, definitions)
        groups = self._group(names, labels, definitions)
        context = PlaceContext()
        with self._registry.lock():
            # Places the gazetteer knows exactly go first: they set the context fuzzy matches need.
            ordered = sorted(groups, key=lambda g: (g.label != "LOC", not self._exact_place(g)))
            resolved: dict[int, Entity] = {}
            for group in ordered:
                entity = self._resolve(group, context)
                for index in group.mention_indexes:
                    resolved[index] = entity
        linked_mentions = [
            m.model_copy(update={"entity_id": resolved[i].id}) if i in resolved else m for i, m in enumerate(mentions)
        ]
        entities = list({e.id: e for e in resolved.values()}.values())
        return Linked(linked_mentions, entities)

    def _acronyms(
        self, texts: dict[TextField, str], mentions: list[Mention], definitions: dict[str, str]
    ) -> list[Mention]:
        """Acronyms the NER model missed: those the article defines ("Arakan Army (AA)"), and those
        already bound to an organisation by earlier articles ("the AA overran ...")."""
        taken = {(m.field, i) for m in mentions for i in range(m.start, m.end)}
        found: list[tuple[TextField, re.Match[str]]] = [
            (where, match)
            for where, text in texts.items()
            for match in _ACRONYM_TOKEN.finditer(text)
            if (where, match.start()) not in taken
        ]
        if not found:
            return []
        known = self._registry.lookup("ORG", sorted({name_key(m.group(0)) for _, m in found}))
        added = []
        for where, match in found:
            if match.group(0) in definitions or name_key(match.group(0)) in known:
                start, end = match.span()
                added.append(Mention(field=where, start=start, end=end, text=match.group(0), label="ORG", score=0.6))
        return added

    # -- types ---------------------------------------------------------------------------------------

    def _settle_types(
        self, texts: dict[TextField, str], mentions: list[Mention], names: list[str], definitions: dict[str, str]
    ) -> list[EntityLabel]:
        votes: dict[str, Counter[EntityLabel]] = {}
        for mention, name in zip(mentions, names, strict=True):
            votes.setdefault(name_key(name), Counter())[mention.label] += 1
        # Where the article is, from the places it names that the gazetteer knows exactly.
        context = PlaceContext()
        for mention, name in zip(mentions, names, strict=True):
            place = self._gazetteer.exact(name_key(name))
            # A state named as one ("Kachin State") sets the context whatever the NER label; a bare
            # "Shan" or "Kachin" may be a people or a party, and sets it only when tagged a place.
            said_as_state = name.split()[-1].lower() in _PLACE_WORDS
            if place is not None and (mention.label == "LOC" or (place.kind == "admin1" and said_as_state)):
                context.add(place)
        labels: list[EntityLabel] = []
        for mention, name in zip(mentions, names, strict=True):
            key = name_key(name)
            label: EntityLabel = mention.label
            long_form = definitions.get(name)
            if long_form is not None and (vote := votes.get(name_key(long_form))):
                label = vote.most_common(1)[0][0]
            elif label != "LOC" and name not in definitions and looks_like_a_name(name):
                text = texts[mention.field]
                said_as_place = (
                    votes[key]["LOC"] > 0
                    or bool(_PLACE_BEFORE.search(text[max(0, mention.start - 20) : mention.start]))
                    or bool(_PLACE_AFTER.match(text[mention.end : mention.end + 20]))
                    or name.split()[-1].lower() in _PLACE_WORDS
                )
                place = self._gazetteer.exact(key, context)
                if place is not None and (said_as_place or context.affinity(place) == 2):
                    # The gazetteer knows the name and the text uses it as a place, or the place lies
                    # in a state the article is about.
                    label = "LOC"
                elif place is None and said_as_place and (found := self._gazetteer.fuzzy(key, context)):
                    # A spelling the gazetteer does not list, used as a place, close to a place in a
                    # state the article is about.
                    if context.affinity(found[0]) == 2:
                        label = "LOC"
                elif place is None and _PLACE_NOUN_AFTER.match(text[mention.end : mention.end + 20]):
                    label = "LOC"
            labels.append(label)
        return labels

    # -- grouping ------------------------------------------------------------------------------------

    def _group(self, names: list[str], labels: list[EntityLabel], definitions: dict[str, str]) -> list[_Group]:
        groups: dict[tuple[EntityLabel, str], _Group] = {}
        long_forms = {name_key(long): acronym for acronym, long in definitions.items()}
        for index, (name, label) in enumerate(zip(names, labels, strict=True)):
            key = name_key(name)
            if not key or not looks_like_a_name(name):
                continue
            # An acronym and its long form share the long form's group.
            if name in definitions:
                key = name_key(definitions[name])
            group = groups.setdefault((label, key), _Group(label))
            group.keys.add(name_key(name))
            group.keys.add(key)
            group.names[name] += 1
            if key in long_forms:
                group.acronyms.add(long_forms[key])
            group.mention_indexes.append(index)
        self._merge_short_person_names(groups)
        return list(groups.values())

    @staticmethod
    def _merge_short_person_names(groups: dict[tuple[EntityLabel, str], _Group]) -> None:
        people = {k: g for k, g in groups.items() if k[0] == "PER"}
        for key, group in list(people.items()):
            words = group.name.split()
            if len(words) >= 3 or key not in groups:
                continue
            longer = [
                g
                for k, g in people.items()
                if k != key
                and k in groups
                and len(g.name.split()) > len(words)
                and g.name.split()[-len(words) :] == words
            ]
            if len(longer) == 1:
                target = longer[0]
                target.keys |= group.keys
                target.names.update(group.names)
                target.mention_indexes += group.mention_indexes
                del groups[key]

    # -- resolution ----------------------------------------------------------------------------------

    def _exact_place(self, group: _Group) -> Place | None:
        for key in sorted(group.keys):
            place = self._gazetteer.exact(key)
            if place is not None:
                return place
        return None

    def _resolve(self, group: _Group, context: PlaceContext) -> Entity:
        label = group.label
        keys = sorted(group.keys | {name_key(a) for a in group.acronyms})
        bound = self._registry.lookup(label, keys)
        place: Place | None = None
        entity_id: str | None = None
        if bound:
            entity_id = Counter(bound.values()).most_common(1)[0][0]
        if label == "LOC":
            place = self._exact_place_in(group, context)
            if place is None and entity_id is None:
                match = self._best_fuzzy_place(group, context)
                place = match
            if place is not None:
                context.add(place)
                entity_id = _place_id(place)
        if entity_id is None:
            entity_id = self._fuzzy_known(label, keys)
        if entity_id is None:
            entity_id = f"{label.lower()}:{_slug(group.name)}"
        # Bind every key seen to the id; a key another entity holds already keeps its entity.
        for key in keys:
            self._registry.bind(label, key, entity_id)
        return self._update(entity_id, group, place)

    def _exact_place_in(self, group: _Group, context: PlaceContext) -> Place | None:
        for key in sorted(group.keys):
            place = self._gazetteer.exact(key, context)
            if place is not None:
                return place
        return None

    def _best_fuzzy_place(self, group: _Group, context: PlaceContext) -> Place | None:
        best: tuple[Place, float] | None = None
        for key in group.keys:
            found = self._gazetteer.fuzzy(key, context)
            if found is not None and (best is None or found[1] > best[1]):
                best = found
        return best[0] if best else None

    def _fuzzy_known(self, label: EntityLabel, keys: list[str]) -> str | None:
        minimum = similarity.MIN_FUZZY_LENGTH if label == "LOC" else FUZZY_MIN_LENGTH_NON_PLACE
        candidates = [k for k in keys if len(k) >= minimum and not is_acronym(k.upper())]
        if not candidates:
            return None
        best: tuple[float, str] | None = None
        for known_key, entity_id in self._registry.aliases(label).items():
            for key in candidates:
                if similarity.similar(key, known_key):
                    value = similarity.score(key, known_key)
                    if best is None or value > best[0]:
                        best = (value, entity_id)
        return best[1] if best else None

    def _update(self, entity_id: str, group: _Group, place: Place | None) -> Entity:
        existing = self._registry.entities([entity_id]).get(entity_id)
        aliases = set(existing.aliases if existing else []) | set(group.names) | set(group.acronyms)
        if place is not None:
            name = place.name
        elif existing is not None and not (is_acronym(existing.name) and not is_acronym(group.name)):
            name = existing.name
        else:
            name = group.name
        aliases.discard(name)
        entity = Entity(
            id=entity_id,
            type=existing.type if existing else group.label,
            name=name,
            aliases=sorted(aliases),
            gazetteer_id=place.id if place else (existing.gazetteer_id if existing else None),
            latitude=place.latitude if place else (existing.latitude if existing else None),
            longitude=place.longitude if place else (existing.longitude if existing else None),
            admin_area=place.admin_area if place else (existing.admin_area if existing else None),
            country=place.country if place else (existing.country if existing else None),
        )
        if entity != existing:
            self._registry.save(entity)
        return entity


def _repeated(texts: dict[TextField, str], mentions: list[Mention]) -> list[Mention]:
    """Mentions the NER model missed of names it found elsewhere in the same article: a model that
    tags "Buthidaung" in the title often misses it in the body, or tags "Kan-Paik-Ti" once in three.
    Spelled alike means the same letters, whatever the case, spaces and hyphens between them."""
    names: dict[str, Mention] = {}
    for mention in mentions:
        name = clean(mention.text, mention.label)
        if len(name_key(name)) >= 4 and looks_like_a_name(name) and not is_acronym(name):
            names.setdefault(name_key(name), mention)
    added: list[Mention] = []
    taken = {(m.field, i) for m in mentions for i in range(m.start, m.end)}
    for key, model in names.items():
        pattern = re.compile(r"\b" + r"[\s-]*".join(re.escape(c) for c in key) + r"\b", re.IGNORECASE)
        for where, text in texts.items():
            for match in pattern.finditer(text):
                start, end = match.span()
                if (where, start) in taken or (where, end - 1) in taken or not text[start].isupper():
                    continue
                added.append(
                    Mention(
                        field=where,
                        start=start,
                        end=end,
                        text=text[start:end],
                        label=model.label,
                        score=model.score * 0.9,
                    )
                )
                taken.update((where, i) for i in range(start, end))
    return added


def _place_id(place: Place) -> str:
    return f"loc:{place.id}"


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")
    return slug[:100] or "unnamed"
