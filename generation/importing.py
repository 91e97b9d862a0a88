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

SLUG_LENGTH = Corpus._meta.get_field("slug").max_length


def bundled_corpus(name: str) -> Corpus:
    corpus, _ = Corpus.objects.get_or_create(
        slug=name, defaults={"title": describe_bundled(name), "source": Corpus.Source.BUNDLED}
    )
    return corpus


def upload_corpus_problem(title: str) -> str:
    """Why no uploaded corpus can take this name; "" when one can. Another kind of corpus of
    the same name is refused: uploaded pieces put into a model's generated corpus were labelled
    as that model's, and into a bundled one, mixed with it."""
    slug = slugify(title)
    if not slug:
        return f"corpus name {title!r} has no letters or digits to name it by"
    if len(slug) > SLUG_LENGTH:
        return f"corpus name {title!r} is too long: at most {SLUG_LENGTH} characters"
    other = Corpus.objects.filter(slug=slug).exclude(source=Corpus.Source.UPLOAD).first()
    if other is not None:
        return (
            f"the corpus {slug} is not an upload ({other.get_source_display()}), so uploads "
            "cannot join it: choose another name"
        )
    return ""


def upload_corpus(title: str) -> Corpus:
    """The uploaded corpus of that name, made if new."""
    if problem := upload_corpus_problem(title):
        raise ValueError(problem)
    corpus, _ = Corpus.objects.get_or_create(
        slug=slugify(title), defaults={"title": title, "source": Corpus.Source.UPLOAD}
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
