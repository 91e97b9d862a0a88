"""Corpus import on the cpu queue: reports progress, safe to re-run (import is idempotent)."""

from collections.abc import Iterator
from pathlib import PurePosixPath

from celery import shared_task
from django.core.files.storage import default_storage

from generation.corpora import iter_bundled, iter_named_files
from generation.importing import bundled_corpus, import_pieces, upload_corpus
from generation.stored_files import read_stored
from worker.progress import ProgressReporter


@shared_task(bind=True, name="cpu.import_corpus")
def import_bundled_corpus(self, name: str, limit: int | None = None) -> dict:
    corpus = bundled_corpus(name)
    reporter = ProgressReporter(self, total=limit or 0, message=f"importing {name}")
    summary = import_pieces(
        corpus, iter_bundled(name, limit), on_piece=lambda s: reporter.advance(message=s.name)
    )
    return summary.as_dict()


@shared_task(bind=True, name="cpu.import_uploads")
def import_uploaded_files(self, corpus_title: str, names: list[str]) -> dict:
    """Imports uploads the web process stored (storage names), on whichever machine it runs.
    Once the import has finished the uploads are deleted: every piece is stored on its own by
    then. A worker lost mid-way leaves them for the redelivered task (import is idempotent)."""
    corpus = upload_corpus(corpus_title)
    reporter = ProgressReporter(self, total=len(names), message=f"importing into {corpus.slug}")
    summary = import_pieces(
        corpus, iter_named_files(_stored_uploads(names)), on_piece=lambda s: reporter.advance()
    )
    for name in names:
        default_storage.delete(name)
    return summary.as_dict()


def _stored_uploads(names: list[str]) -> Iterator[tuple[str, bytes]]:
    """The uploads still stored: a task redelivered after its worker deleted them (and was lost
    before acknowledging) finds them gone, their pieces already imported."""
    for name in names:
        if default_storage.exists(name):
            yield PurePosixPath(name).name, read_stored(name)
