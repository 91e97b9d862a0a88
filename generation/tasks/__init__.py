"""Celery tasks of the generation app; Celery's autodiscovery imports this package."""

from generation.tasks.corpus import import_bundled_corpus, import_uploaded_files

__all__ = ["import_bundled_corpus", "import_uploaded_files"]
