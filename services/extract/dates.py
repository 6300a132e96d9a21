"""Date expressions in a sentence, resolved against the article's publication date.

Pure functions. Each date comes with its precision, as ACLED records it (day, week, month, year):
  "November 20", "Nov. 20, 2024", "20 November"   day   (a missing year: the latest such date that
                                                          is not after the publication day)
  "on Wednesday", "Wednesday"                      day   (the latest such weekday on or before it)
  "yesterday", "today", "last night"               day
  "last week", "this week"                         week  (the Monday that starts that week)
  "in August", "mid-October", "late September"     month (the first of that month)
  "last month", "earlier this month"               month
  "in 2021"                                        year
"""

import datetime as dt
import re
from dataclasses import dataclass

from services.common.schema import DatePrecision

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_MONTH = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("month_day", re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?", re.IGNORECASE)),
    ("day_month", re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:,?\s+(\d{4}))?\b", re.IGNORECASE)),
    (
        "weekday",
        re.compile(r"\b(?:on\s+|last\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.IGNORECASE),
    ),
    ("relative_day", re.compile(r"\b(yesterday|today|last night|this morning|tonight)\b", re.IGNORECASE)),
    ("relative_week", re.compile(r"\b(last|this|past|previous)\s+week\b", re.IGNORECASE)),
    (
        "relative_month",
        re.compile(r"\b(last month|earlier this month|this month|earlier in the month)\b", re.IGNORECASE),
    ),
    (
        "month",
        re.compile(
            r"\b(?:in|since|during|by|early|late|mid|mid-|earlier in|later in)[\s-]*(?:early\s+|late\s+|mid-?)?"
            + _MONTH
            + r"(?:\s+(\d{4}))?\b",
            re.IGNORECASE,
        ),
    ),
    ("year", re.compile(r"\b(?:in|since|during)\s+((?:19|20)\d{2})\b", re.IGNORECASE)),
]
# Expressions that are durations or distant references, not dates of the happening.
_NOT_A_DATE = re.compile(
    r"\b(?:(?:over|for|in) the past\s+(?:year|months?|weeks?|decades?)|has now|have now|so far|"
    r"in recent (?:months|weeks|years))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateRef:
    date: dt.date
    precision: DatePrecision
    start: int
    end: int
    text: str


def _latest(month: int, day: int, published: dt.date) -> dt.date | None:
    """The latest date with this month and day that is not after the publication day."""
    for year in (published.year, published.year - 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= published:
            return candidate
    return None


def _latest_month(month: int, published: dt.date) -> dt.date:
    year = published.year if month <= published.month else published.year - 1
    return dt.date(year, month, 1)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def find_dates(sentence: str, published: dt.date) -> list[DateRef]:
    """Every date expression in the sentence, resolved, in the order they appear; overlapping
    expressions keep the first (most specific) pattern that matched."""
    found: list[DateRef] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(sentence):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            resolved = _resolve(kind, match, published)
            if resolved is None:
                continue
            date, precision = resolved
            taken.append((start, end))
            found.append(DateRef(date, precision, start, end, match.group(0)))
    return sorted(found, key=lambda d: d.start)


def _resolve(kind: str, match: re.Match[str], published: dt.date) -> tuple[dt.date, DatePrecision] | None:
    if kind in ("month_day", "day_month"):
        month_text, day_text = (
            (match.group(1), match.group(2)) if kind == "month_day" else (match.group(2), match.group(1))
        )
        month, day = MONTHS[month_text.lower().rstrip(".")], int(day_text)
        year = match.group(3)
        if year:
            try:
                return dt.date(int(year), month, day), "day"
            except ValueError:
                return None
        date = _latest(month, day, published)
        return (date, "day") if date else None
    if kind == "weekday":
        weekday = WEEKDAYS.index(match.group(1).lower())
        back = (published.weekday() - weekday) % 7
        if match.group(0).lower().startswith("last") and back == 0:
            back = 7
        return published - dt.timedelta(days=back), "day"
    if kind == "relative_day":
        word = match.group(1).lower()
        back = 1 if word in ("yesterday", "last night") else 0
        return published - dt.timedelta(days=back), "day"
    if kind == "relative_week":
        if match.group(1).lower() == "this":
            return _monday(published), "week"
        return _monday(published) - dt.timedelta(days=7), "week"
    if kind == "relative_month":
        first = published.replace(day=1)
        if match.group(1).lower() == "last month":
            return (first - dt.timedelta(days=1)).replace(day=1), "month"
        return first, "month"
    if kind == "month":
        month = MONTHS[match.group(1).lower().rstrip(".")]
        if match.group(1).lower() == "may" and not match.group(0).lower().startswith(("in", "since", "during", "by")):
            return None  # "may" is far more often a verb
        if match.group(2):
            return dt.date(int(match.group(2)), month, 1), "month"
        return _latest_month(month, published), "month"
    if kind == "year":
        year = int(match.group(1))
        return (dt.date(year, 1, 1), "year") if year <= published.year else None
    return None


def is_background(sentence: str) -> bool:
    """True for sentences that sum up a period ("over the past year") rather than report a day."""
    return bool(_NOT_A_DATE.search(sentence))
