"""Newswire: news feeds in, a live deduplicated stream of entities and events out.

One import root for the whole repository: `services.common` holds the contracts the three services
share; `services.ingest`, `services.extract` and `services.store` never import each other.
"""
