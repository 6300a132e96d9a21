"""Store: consume tagged articles, upsert them in batches, publish committed changes.

``tables`` declares the schema (migrated by Alembic, ``migrations/``), ``database`` builds engines,
``repository`` holds the idempotent batch upsert and its outbox, ``consumer`` reads the tagged stream
as a consumer group, ``service`` runs the loop.
"""
