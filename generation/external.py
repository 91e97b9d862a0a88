"""Imports an external generator's MIDI files as a generation batch, all or nothing.

Every file is read before anything is stored: one corrupt or empty file refuses the whole import
and the refusal names each bad file, so a researcher never has half a source in a study. The
pieces are then screened for memorisation against the corpus the generator imitates, and stored
in one transaction as a batch like any other (a "generated" corpus of test-split pieces, one
GeneratedPiece per file with its score), which is all that studies, balancing, rendering, reports
and exports look at. MIDI files are written only after validation, and removed again if the
transaction does not commit.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pretty_midi
from django.db import transaction
from django.utils import timezone

from generation.corpora import SourcePiece
from generation.memorisation import MemorisationScore
from generation.midi_files import MidiError, count_pitched_notes, read_midi
from generation.models import Corpus, ExternalGenerator, GeneratedPiece, GenerationBatch, Piece
from generation.models.runs import Status
from generation.networks import MODEL_KINDS
from generation.screening import SCREEN_BEATS_PER_BAR, SCREEN_STEPS_PER_BEAT, screen_against

RESERVED_NAMES = {"human", *MODEL_KINDS}


class ImportRefused(ValueError):
    """The import changed nothing; the message says why, naming every file at fault."""


@dataclass(frozen=True)
class GeneratorInfo:
    name: str
    version: str
    description: str
    corpus: str  # slug of the corpus it imitates


@dataclass(frozen=True)
class ReadPiece:
    name: str
    data: bytes
    pm: pretty_midi.PrettyMIDI


def check_generator(info: GeneratorInfo) -> Corpus:
    """The corpus it imitates; refuses a name reports would confuse with another source."""
    name = info.name.strip()
    if not name:
        raise ImportRefused("the model needs a name")
    if name.lower() in RESERVED_NAMES:
        raise ImportRefused(
            f"{name!r} names the human excerpts or a built-in network; choose another name"
        )
    corpus = Corpus.objects.filter(slug=info.corpus).first()
    if corpus is None:
        raise ImportRefused(f"there is no corpus {info.corpus!r} (import it first)")
    if corpus.source == Corpus.Source.GENERATED:
        raise ImportRefused(f"corpus {corpus.slug!r} holds generated pieces; name a human corpus")
    if not corpus.pieces.exists():
        raise ImportRefused(f"corpus {corpus.slug!r} has no pieces to screen against")
    version = info.version.strip()
    existing = ExternalGenerator.objects.filter(name=name, version=version).first()
    label = ExternalGenerator(name=name, version=version).label
    for other in ExternalGenerator.objects.exclude(pk=existing.pk if existing else None):
        if other.label == label:
            raise ImportRefused(
                f"another generator (name {other.name!r}, version {other.version!r}) is "
                f"already reported as {label!r}; choose a name or version that tells them apart"
            )
    if existing and existing.corpus_id != corpus.pk:
        raise ImportRefused(
            f"{existing.label} was imported as imitating {existing.corpus.slug!r}; give this "
            "one another version"
        )
    return corpus


def read_all(sources: Iterable[SourcePiece]) -> list[ReadPiece]:
    """Every file read, or ImportRefused naming each one that cannot be used."""
    pieces, problems = [], []
    for source in sources:
        if source.data is None:
            problems.append(source.error)
            continue
        try:
            pieces.append(ReadPiece(source.name, source.data, read_midi(source.data, source.name)))
        except MidiError as exc:
            problems.append(str(exc))
    if problems:
        raise ImportRefused(
            f"nothing was imported: {len(problems)} file(s) cannot be used: " + "; ".join(problems)
        )
    if not pieces:
        raise ImportRefused("nothing was imported: no MIDI files (.mid, .midi) were given")
    return pieces


def import_generated(
    info: GeneratorInfo,
    sources: Iterable[SourcePiece],
    on_screened: Callable[[int], None] | None = None,
) -> GenerationBatch:
    """Validates, screens and stores the files as a new batch of the generator;
    `on_screened(total)` is called once per piece screened."""
    corpus = check_generator(info)
    pieces = read_all(sources)
    reference = [piece.load_midi() for piece in corpus.pieces.all()]
    report = (lambda: on_screened(len(pieces))) if on_screened else None
    scores = screen_against([p.pm for p in pieces], reference, report)
    stored: list[Piece] = []
    try:
        return _store(info, corpus, pieces, scores, stored)
    except BaseException:
        for piece in stored:
            piece.midi.delete(save=False)
        raise


@transaction.atomic
def _store(
    info: GeneratorInfo,
    corpus: Corpus,
    pieces: list[ReadPiece],
    scores: list[MemorisationScore],
    stored: list[Piece],
) -> GenerationBatch:
    generator, _ = ExternalGenerator.objects.get_or_create(
        name=info.name.strip(),
        version=info.version.strip(),
        defaults={"description": info.description.strip(), "corpus": corpus},
    )
    now = timezone.now()
    batch = GenerationBatch.objects.create(
        generator=generator,
        n_pieces=len(pieces),
        bars=0,
        beats_per_bar=SCREEN_BEATS_PER_BAR,
        status=Status.SUCCEEDED,
        progress=1.0,
        message=f"{len(pieces)} files imported",
        started=now,
        finished=now,
        settings={
            "imported": True,
            "screened_against": corpus.slug,
            "screen_steps_per_beat": SCREEN_STEPS_PER_BEAT,
        },
    )
    batch.corpus = Corpus.objects.create(
        slug=f"generated-external-{generator.pk}-batch-{batch.pk}",
        title=f"{generator.label}, batch {batch.pk} (imported)",
        source=Corpus.Source.GENERATED,
    )
    batch.save(update_fields=["corpus"])
    for index, (read, score) in enumerate(zip(pieces, scores, strict=True)):
        GeneratedPiece.objects.create(
            batch=batch,
            index=index,
            piece=_piece_for(batch, read, stored),
            n_notes=count_pitched_notes(read.pm),
            **GeneratedPiece.screen_fields(score),
            parameters={
                "generator": generator.name,
                "version": generator.version,
                "batch": batch.pk,
                "index": index,
                "file": read.name,
                "screened_against": corpus.slug,
                "steps_per_beat": SCREEN_STEPS_PER_BEAT,
            },
        )
    return batch


def _piece_for(batch: GenerationBatch, read: ReadPiece, stored: list[Piece]) -> Piece:
    """The batch corpus's Piece for this music, shared with an identical earlier file."""
    piece = Piece.from_midi(batch.corpus, read.name, read.pm, split="test", title=read.name)
    existing = batch.corpus.pieces.filter(content_hash=piece.content_hash).first()
    if existing:
        return existing
    piece.store_midi(read.data)
    stored.append(piece)
    piece.save()
    return piece
