"""Entries of Newswire's Redis streams as text, for every service and consumer that reads them."""

from typing import Any

__all__ = ["as_text", "live_entries"]


def as_text(value: Any) -> str:
    """A stream id, field name or value as text; bytes that are not UTF-8 are replaced, not fatal
    (the message is then rejected by its schema, with a reason, rather than crashing the reader)."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def live_entries(entries: Any) -> list[tuple[str, dict[str, str]]]:
    """(entry id, fields) of each entry of an XREADGROUP, XRANGE or XAUTOCLAIM reply, as text.
    Entries trimmed away while pending come back without fields: there is nothing left to read in
    them, and they are left out."""
    return [
        (as_text(entry_id), {as_text(k): as_text(v) for k, v in fields.items()})
        for entry_id, fields in entries or []
        if fields is not None
    ]
