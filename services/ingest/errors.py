"""Ingest's failures, named once. ``reason`` is a bounded metric label.

IngestError
└── FetchError      the feed could not be fetched (reason: timeout, connect, http_status,
                    too_large, not_found)
"""


class IngestError(Exception):
    reason = "error"


class FetchError(IngestError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
