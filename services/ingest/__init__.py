"""Ingest: poll feeds, normalise items into articles, drop repeats, queue the rest for extract.

Stages flow one way: ``feeds`` (registry) → ``fetch`` (bytes) → ``parse`` (entries) →
``normalise`` (articles) → ``seen`` (dedupe) → ``enqueue`` (Celery task), driven by ``service``.
"""
