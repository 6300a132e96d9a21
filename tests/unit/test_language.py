"""Burmese in Zawgyi becomes Unicode, languages are detected, and "related stories" lists are cut."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.feeds import Feed
from services.ingest.language import detect, from_zawgyi, is_zawgyi
from services.ingest.normalise import html_to_text, normalise_entry

UNICODE = "မြန်မာနိုင်ငံ ကချင်ပြည်နယ်တွင် တိုက်ပွဲများ ဖြစ်ပွားခဲ့သည်"
ZAWGYI = "ျမန္မာႏိုင္ငံ ကခ်င္ျပည္နယ္တြင္ တိုက္ပြဲမ်ား ျဖစ္ပြားခဲ့သည္"


def test_zawgyi_is_detected_and_converted() -> None:
    assert is_zawgyi(ZAWGYI) and not is_zawgyi(UNICODE)
    assert from_zawgyi(ZAWGYI)[0] == UNICODE


@pytest.mark.parametrize("text", [UNICODE, "Kachin Independence Army", "", "ကချင် KIA 2024"])
def test_text_that_is_not_zawgyi_is_left_alone(text: str) -> None:
    assert from_zawgyi(text)[0] == text


def test_from_zawgyi_says_whether_it_converted() -> None:
    assert from_zawgyi(ZAWGYI) == (UNICODE, True)
    assert from_zawgyi(UNICODE) == (UNICODE, False)


_FEED = Feed(name="burmese", url="https://my.example.org/feed.xml", outlet="Burmese Outlet")
_FETCHED = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("entry", "zawgyi"),
    [
        ({"title": ZAWGYI, "summary": UNICODE}, True),
        ({"title": UNICODE, "summary": ZAWGYI}, True),
        ({"title": "Kachin", "content": [{"type": "text/html", "value": f"<p>{ZAWGYI}</p>"}]}, True),
        ({"title": UNICODE, "authors": [{"name": ZAWGYI}]}, True),
        ({"title": UNICODE, "summary": UNICODE, "authors": [{"name": UNICODE}]}, False),
        ({"title": "Kachin Independence Army captures border town", "summary": "Residents fled."}, False),
    ],
)
def test_normalise_entry_says_whether_it_converted_zawgyi(entry: dict[str, Any], zawgyi: bool) -> None:
    normalised = normalise_entry({"link": "https://my.example.org/1", **entry}, _FEED, _FETCHED)
    assert normalised.zawgyi is zawgyi
    article = normalised.article
    assert article is not None
    for text in (article.title, article.summary, article.body_text, *article.authors):
        assert not is_zawgyi(text), text


def test_an_entry_with_nothing_to_keep_still_says_whether_it_converted() -> None:
    # No link, GUID, title or body: no article, but its author's Zawgyi was still converted.
    normalised = normalise_entry({"authors": [{"name": ZAWGYI}]}, _FEED, _FETCHED)
    assert (normalised.article, normalised.zawgyi) == (None, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Kachin Independence Army captured the border town on Wednesday, residents said.", "en"),
        (UNICODE, "my"),
        ("Les rebelles ont pris la ville frontalière mercredi, selon des habitants.", "fr"),
        ("KIA", None),  # too short to say
    ],
)
def test_language_detection(text: str, expected: str | None) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Story.</p><p>RELATED STORIES</p><p>Other one</p><p>Other two</p>", "Story."),
        ("<p>Story.</p><h3>Related articles:</h3><ul><li>Other</li></ul>", "Story."),
        ("<p>Story.</p><p>You may also like</p><p>x</p>", "Story."),
        # Long paragraphs after the heading are story, not a list of links: nothing is cut.
        (
            "<p>Story.</p><p>Related stories</p><p>" + "Long text. " * 20 + "</p>",
            "Story.\n\nRelated stories\n\n" + ("Long text. " * 20).strip(),
        ),
        # A sentence that merely starts with the words is not a heading.
        (
            "<p>Related stories are what this one is about.</p><p>Second.</p>",
            "Related stories are what this one is about.\n\nSecond.",
        ),
        # Nothing is cut before the first paragraph.
        ("<p>RELATED STORIES</p><p>Body.</p>", "RELATED STORIES\n\nBody."),
    ],
)
def test_related_stories_lists_are_cut(html: str, expected: str) -> None:
    assert html_to_text(html) == expected
