"""Extract: a Celery worker that tags each article's named entities and passes it on to store.

``celery_app`` builds the app, ``tasks`` holds the task, ``taggers`` the NER backends (Hugging Face
transformers, with spaCy's small English pipeline as the offline fallback), ``publish`` the stream
writer.
"""
