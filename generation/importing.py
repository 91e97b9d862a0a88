"""Stores source pieces in a corpus: finds or creates the Corpus row, validates, hashes, splits,
and skips what is already there.

Import is idempotent: a piece whose content hash is already in the corpus is counted, not
duplicated. A bad file is reported by name and skipped; the rest of the import goes on.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from generation.corpora import SourcePiece, describe_bundled
from generation.midi_files import MidiError, read_midi
from generation.models import Corpus, Piece
from generation.splits import SPLITS


def bundled_corpus(name: str) -> Corpus:
    corpus, _ = Corpus.objects.get_or_create(
        slug=name, defaults={"title": describe_bundled(name), "source": Corpus.Source.BUNDLED}
    )
    return corpus


def upload_corpus(title: str) -> Corpus:
    slug = slugify(title)
    if not slug:
        raise ValueError(f"corpus name {title!r} has no letters or digits to name it by")
    corpus, _ = Corpus.objects.get_or_create(
        slug=slug, defaults={"title": title, "source": Corpus.Source.UPLOAD}
    )
    return corpus


@dataclass
class ImportSummary:
    corpus: str
    created: int = 0
    existing: int = 0
    skipped: list[str] = field(default_factory=list)
    per_split: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "corpus": self.corpus,
            "created": self.created,
            "existing": self.existing,
            "skipped": self.skipped,
            "per_split": {s: self.per_split[s] for s in SPLITS},
        }

    def lines(self) -> list[str]:
        splits = ", ".join(f"{s} {self.per_split[s]}" for s in SPLITS)
        lines = [
            f"corpus {self.corpus}: {self.created} new, {self.existing} already there, "
            f"{len(self.skipped)} skipped",
            f"pieces per split: {splits}",
        ]
        lines += [f"skipped {reason}" for reason in self.skipped]
        return lines


def import_pieces(
    corpus: Corpus,
    sources: Iterable[SourcePiece],
    on_piece: Callable[[SourcePiece], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary(corpus.slug)
    for source in sources:
        outcome = _import_one(corpus, source)
        if isinstance(outcome, str):
            summary.skipped.append(outcome)
        else:
            piece, created = outcome
            summary.created += created
            summary.existing += not created
            summary.per_split[piece.split] += 1
        if on_piece:
            on_piece(source)
    return summary


def _import_one(corpus: Corpus, source: SourcePiece) -> str | tuple[Piece, bool]:
    if source.data is None:
        return source.error
    try:
        pm = read_midi(source.data, source.name)
    except MidiError as exc:
        return str(exc)
    piece = Piece.from_midi(corpus, source.name, pm, title=source.title)
    digest = piece.content_hash
    existing = Piece.objects.filter(corpus=corpus, content_hash=digest).first()
    if existing:
        return existing, False
    piece.store_midi(source.data)
    try:
        with transaction.atomic():
            piece.save()
    except IntegrityError:
        piece.midi.delete(save=False)
        return Piece.objects.get(corpus=corpus, content_hash=digest), False
    return piece, True
