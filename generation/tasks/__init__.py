"""Celery tasks of the generation app; Celery's autodiscovery imports this package."""

from generation.tasks import reconciling  # noqa: F401 - connects the check at worker start
from generation.tasks.importing import import_bundled_corpus, import_uploaded_files
from generation.tasks.sampling import generate_batch
from generation.tasks.training import train_run

__all__ = ["import_bundled_corpus", "import_uploaded_files", "train_run", "generate_batch"]
