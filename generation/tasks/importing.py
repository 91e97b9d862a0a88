"""Corpus import on the cpu queue: reports progress, safe to re-run (import is idempotent)."""

from pathlib import Path

from celery import shared_task

from generation.corpora import iter_bundled, iter_files
from generation.importing import bundled_corpus, import_pieces, upload_corpus
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
def import_uploaded_files(self, corpus_title: str, paths: list[str]) -> dict:
    corpus = upload_corpus(corpus_title)
    reporter = ProgressReporter(self, total=len(paths), message=f"importing into {corpus.slug}")
    summary = import_pieces(
        corpus, iter_files([Path(p) for p in paths]), on_piece=lambda s: reporter.advance()
    )
    return summary.as_dict()
