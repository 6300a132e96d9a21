"""Linking, events and stories on hand-made mentions, with the state in memory."""

import datetime as dt
import re

import pytest

from services.common.schema import Article, Entity, EntityLabel, Event, Mention
from services.extract.events import event_id, extract_events, sentences
from services.extract.gazetteer import Gazetteer
from services.extract.link import Linked, Linker
from services.extract.registry import MemoryRegistry
from services.extract.stories import Stories
from services.extract.taxonomy import classify
from tests.factories import article as make_article


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()


def mentions(text: str, *spans: tuple[str, EntityLabel]) -> list[Mention]:
    """Mentions of each (surface, label) at every place it occurs in the body, as NER would give."""
    found = []
    for surface, label in spans:
        for match in re.finditer(re.escape(surface), text):
            found.append(
                Mention(field="body", start=match.start(), end=match.end(), text=surface, label=label, score=0.9)
            )
    return sorted(found, key=lambda m: m.start)


def link(linker: Linker, text: str, *spans: tuple[str, EntityLabel]) -> Linked:
    return linker.link("", text, mentions(text, *spans))


def ids(linked: Linked) -> dict[str, str | None]:
    return {m.text: m.entity_id for m in linked.mentions}


def test_spelling_variants_across_articles_are_one_place_in_the_gazetteer(gazetteer: Gazetteer) -> None:
    linker = Linker(gazetteer, MemoryRegistry())
    first = link(
        linker, "Fighters took Kan Paik Ti town in Kachin State.", ("Kan Paik Ti", "ORG"), ("Kachin State", "LOC")
    )
    second = link(linker, "The KIA captured Kanpaiti, in Kachin State.", ("Kanpaiti", "LOC"), ("Kachin State", "LOC"))
    third = link(linker, "Troops fled Kanpiketi in Kachin State.", ("Kanpiketi", "LOC"), ("Kachin State", "LOC"))

    place = {ids(first)["Kan Paik Ti"], ids(second)["Kanpaiti"], ids(third)["Kanpiketi"]}
    assert place == {"loc:newswire:mm-kanpaiti"}
    (kanpaiti,) = [e for e in third.entities if e.id == "loc:newswire:mm-kanpaiti"]
    assert kanpaiti.name == "Kanpaiti" and kanpaiti.admin_area == "Waingmaw Township, Kachin State"
    assert {"Kan Paik Ti", "Kanpiketi"} <= set(kanpaiti.aliases)


def test_a_transliteration_needs_the_state_in_context(gazetteer: Gazetteer) -> None:
    # Without Kachin State in the article, a close spelling is not taken for a Kachin town.
    linked = link(Linker(gazetteer, MemoryRegistry()), "Troops fled Kanpiketi.", ("Kanpiketi", "LOC"))
    assert ids(linked)["Kanpiketi"] == "loc:kanpiketi"
    assert linked.entities[0].gazetteer_id is None


def test_acronyms_defined_in_the_text_and_remembered_afterwards(gazetteer: Gazetteer) -> None:
    linker = Linker(gazetteer, MemoryRegistry())
    text = "The Kachin Independence Army, or KIA, said the KIA would talk."
    first = link(linker, text, ("Kachin Independence Army", "ORG"), ("KIA", "ORG"))
    later = link(linker, "The KIA attacked a base.", ("KIA", "ORG"))

    assert set(ids(first).values()) == {"org:kachin-independence-army"}
    assert ids(later)["KIA"] == "org:kachin-independence-army"
    assert later.entities[0].name == "Kachin Independence Army" and later.entities[0].aliases == ["KIA"]


def test_acronym_the_model_missed_is_found_when_defined(gazetteer: Gazetteer) -> None:
    text = "The Arakan Army (AA) said the AA took the town."
    linked = link(Linker(gazetteer, MemoryRegistry()), text, ("Arakan Army", "ORG"))
    assert [m.text for m in linked.mentions if m.entity_id == "org:arakan-army"] == ["Arakan Army", "AA", "AA"]


def test_titles_and_honorifics_do_not_make_another_person(gazetteer: Gazetteer) -> None:
    linker = Linker(gazetteer, MemoryRegistry())
    first = link(linker, "Col. Naw Bu, the spokesperson, declined.", ("Col. Naw Bu", "PER"))
    second = link(linker, "Naw Bu did not answer.", ("Naw Bu", "PER"))
    assert ids(first)["Col. Naw Bu"] == ids(second)["Naw Bu"] == "per:naw-bu"


def test_traps_stay_apart(gazetteer: Gazetteer) -> None:
    linker = Linker(gazetteer, MemoryRegistry())
    town = link(
        linker, "Soldiers crossed back through Muse, a town in Shan State.", ("Muse", "LOC"), ("Shan State", "LOC")
    )
    band = link(linker, "The rock band Muse will play Bangkok.", ("Muse", "ORG"), ("Bangkok", "LOC"))
    verb = link(linker, "Fans who muse about a show.", ("muse", "ORG"))
    army = link(linker, "The Shan State Army met Shan parties.", ("Shan State Army", "ORG"), ("Shan", "MISC"))

    assert ids(town)["Muse"] == "loc:geonames:1308318"  # GeoNames "Mu-se", Shan State
    assert ids(band)["Muse"] == "org:muse"
    assert ids(verb)["muse"] is None
    assert ids(army)["Shan State Army"] == "org:shan-state-army"
    assert ids(army)["Shan"] not in {"org:shan-state-army", ids(town)["Shan State"]}


def test_a_place_the_model_called_a_person_is_a_place_when_the_text_says_so(gazetteer: Gazetteer) -> None:
    linked = link(
        Linker(gazetteer, MemoryRegistry()),
        "Wang Yi flew to Naypyitaw in August.",
        ("Wang Yi", "PER"),
        ("Naypyitaw", "PER"),
    )
    assert ids(linked)["Naypyitaw"] == "loc:geonames:6611854"
    assert ids(linked)["Wang Yi"] == "per:wang-yi"


@pytest.mark.parametrize(
    ("sentence", "sub_type"),
    [
        ("The KIA captured Kanpiketi on November 20.", "Non-state actor overtakes territory"),
        (
            "local media have confirmed that the town fell last week to KIA fighters",
            "Non-state actor overtakes territory",
        ),
        ("The military recaptured the town on Monday.", "Government regains territory"),
        ("A junta air strike hit the town, a month after the KIA captured it.", "Air/drone strike"),
        ("Junta artillery shelled villages near Kyaukme.", "Shelling/artillery/missile attack"),
        ("A landmine explosion killed two farmers.", "Remote explosive/landmine/IED"),
        ("Police arrested five protesters during a protest.", "Protest with intervention"),
        ("Dozens staged a flash protest in Yangon.", "Peaceful protest"),
        ("Junta troops arrested three journalists.", "Arrests"),
        ("KIA troops clashed with junta forces.", "Armed clash"),
        ("China facilitated a ceasefire in northern Shan state.", "Agreement"),
        ("Jade sales fell by half this year.", None),
        ("The KIA has seized weapons and a cache of ammunition.", None),
        ("The KIA has invited China for talks.", None),
    ],
)
def test_taxonomy_cues(sentence: str, sub_type: str | None) -> None:
    found = classify(sentence)
    assert (found[0].sub_type if found else None) == sub_type


def test_sentences_do_not_end_at_abbreviations() -> None:
    text = "Col. Naw Bu declined. He spoke on Nov. 6 in Laiza. “Quiet,” he said. Then nothing."
    assert [s.text for s in sentences(text)] == [
        "Col. Naw Bu declined.",
        "He spoke on Nov. 6 in Laiza.",
        "“Quiet,” he said.",
        "Then nothing.",
    ]


def _events(
    gazetteer: Gazetteer, registry: MemoryRegistry, text: str, published: dt.datetime, *spans: tuple[str, EntityLabel]
) -> tuple[list[Event], list[Entity]]:
    linked = Linker(gazetteer, registry).link("", text, mentions(text, *spans))
    return extract_events("", text, published, linked.mentions, linked.entities), linked.entities


def test_the_same_happening_from_two_outlets_is_one_event(gazetteer: Gazetteer) -> None:
    registry = MemoryRegistry()
    rfa, _ = _events(
        gazetteer,
        registry,
        "KIA fighters launched a push for Kan Paik Ti town, 75 kilometers east of Myitkyina, early on Wednesday "
        "and captured it. Residents fled.",
        dt.datetime(2024, 11, 21, 16, 40, tzinfo=dt.UTC),
        ("KIA", "ORG"),
        ("Kan Paik Ti", "ORG"),
        ("Myitkyina", "LOC"),
    )
    irrawaddy, _ = _events(
        gazetteer,
        registry,
        "Over 300 junta soldiers fled Kanpiketi in Kachin State after the KIA seized it last week. "
        "The KIA captured Kanpiketi on November 20. Around 300 soldiers fled to China.",
        dt.datetime(2024, 12, 2, 7, 30, tzinfo=dt.UTC),
        ("KIA", "ORG"),
        ("Kanpiketi", "LOC"),
        ("Kachin State", "LOC"),
        ("China", "LOC"),
    )
    assert len(rfa) == 1 and len(irrawaddy) == 1
    (a,), (b,) = rfa, irrawaddy
    assert a.id == b.id == event_id(a.type, a.sub_type, "loc:newswire:mm-kanpaiti", dt.date(2024, 11, 20), "day")
    assert (a.sub_type, a.place_id, a.date, a.date_precision) == (
        "Non-state actor overtakes territory",
        "loc:newswire:mm-kanpaiti",
        dt.date(2024, 11, 20),
        "day",
    )
    # Each source keeps its own figures.
    assert a.counts.fled is None and b.counts.fled == 300
    assert a.actors == b.actors == ["org:kia"]


def test_no_place_or_no_date_no_event(gazetteer: Gazetteer) -> None:
    events, _ = _events(
        gazetteer,
        MemoryRegistry(),
        "Rebels captured the last crossing on Wednesday. The KIA captured Laiza.",
        dt.datetime(2024, 11, 21, tzinfo=dt.UTC),
        ("KIA", "ORG"),
        ("Laiza", "LOC"),
    )
    assert events == []


def _article(n: int, published: dt.datetime) -> Article:
    return make_article(n).model_copy(update={"published_at": published})


def _event(place: str, day: dt.date, type_: str = "Battles") -> Event:
    return Event(
        id=event_id(type_, "x", place, day, "day"),
        type=type_,
        sub_type="x",
        place_id=place,
        date=day,
        date_precision="day",
        evidence="...",
        confidence=0.5,
    )


def test_stories_join_on_the_same_happening_and_only_on_it() -> None:
    stories = Stories(MemoryRegistry(), encoder=None)
    nov = dt.datetime(2024, 11, 21, tzinfo=dt.UTC)
    first = stories.assign(_article(1, nov), [], [_event("loc:k", dt.date(2024, 11, 20))])
    # Another outlet a week later, the same event: the same story, however worded.
    same = stories.assign(_article(2, nov + dt.timedelta(days=7)), [], [_event("loc:k", dt.date(2024, 11, 20))])
    # An outlet a day off on the date: still the same happening.
    near = stories.assign(_article(3, nov + dt.timedelta(days=2)), [], [_event("loc:k", dt.date(2024, 11, 21))])
    # The same group, another place, the same days: another story.
    elsewhere = stories.assign(_article(4, nov), [], [_event("loc:b", dt.date(2024, 11, 20))])
    # The same place a month later, another kind of event: another story.
    later = stories.assign(
        _article(5, nov + dt.timedelta(days=29)), [], [_event("loc:k", dt.date(2024, 12, 19), "Protests")]
    )
    again = stories.assign(_article(1, nov), [], [])
    # Weeks later, past the similarity window, a report of the same event still joins its story.
    weeks = stories.assign(_article(6, nov + dt.timedelta(days=60)), [], [_event("loc:k", dt.date(2024, 11, 20))])

    assert first == same == near == again == weeks
    assert len({first, elsewhere, later}) == 3


def test_analysis_is_counted_in_metrics(gazetteer: Gazetteer) -> None:
    from prometheus_client import REGISTRY

    from services.common.schema import TaggedArticle, Tagger
    from services.extract import metrics

    text = "The KIA captured Kanpaiti in Kachin State on Wednesday. Thet Swe declined."
    linked = link(
        Linker(gazetteer, MemoryRegistry()),
        text,
        ("KIA", "ORG"),
        ("Kanpaiti", "LOC"),
        ("Kachin State", "LOC"),
        ("Thet Swe", "PER"),
    )
    published = dt.datetime(2024, 11, 21, tzinfo=dt.UTC)
    events = extract_events("", text, published, linked.mentions, linked.entities)
    tagged = TaggedArticle(
        article=make_article(1).model_copy(update={"body_text": text, "published_at": published}),
        mentions=[*linked.mentions, Mention(field="title", start=0, end=5, text="muse.", label="ORG", score=0.5)],
        entities=linked.entities,
        events=events,
        story_id="story:x",
        tagger=Tagger(backend="spacy", model="en_core_web_sm"),
        tagged_at=published,
    )

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (
        value("newswire_extract_mentions_linked_total", outcome="linked"),
        value("newswire_extract_mentions_linked_total", outcome="unlinked"),
        value("newswire_extract_events_total", type="Battles"),
        value("newswire_extract_places_total", source="gazetteer"),
    )
    metrics.observe_analysis(tagged)
    after = (
        value("newswire_extract_mentions_linked_total", outcome="linked"),
        value("newswire_extract_mentions_linked_total", outcome="unlinked"),
        value("newswire_extract_events_total", type="Battles"),
        value("newswire_extract_places_total", source="gazetteer"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [4, 1, 1, 2]
