"""Rendering stimuli on the cpu queue: one piece per task, a batch fanned out as a Celery group.

The pure pipeline (audio.pipeline) does the work; this module only finds the piece,
decides its source from the database, stores the files under random names and records the row.
Rendering is idempotent: one Stimulus per (piece, spec fingerprint); a ready or refused one is
returned as it is, a failed or interrupted one is rendered again.
"""

import secrets
from dataclasses import asdict

from celery import group, shared_task
from django.conf import settings
from django.db.models import QuerySet

from audio.excerpt import ExcerptRefused
from audio.pipeline import StimulusSpec, prepare_stimulus
from generation.midi_files import MidiError
from generation.models import Corpus, GenerationBatch, Piece
from generation.stored_files import read_stored, save_all
from surveys.models import Stimulus
from worker.progress import ProgressReporter

HUMAN = "human"


def source_of(piece: Piece) -> tuple[str, str]:
    """("human", "human") for a corpus piece, ("machine", model label) for a generated one: the
    network's kind, or the name and version of the external generator it was imported from."""
    related = ("batch__run", "batch__generator")
    sample = piece.generations.select_related(*related).order_by("batch_id").first()
    batch = sample.batch if sample else None
    if batch is None and piece.corpus.source == Corpus.Source.GENERATED:
        batch = (
            GenerationBatch.objects.select_related("run", "generator")
            .filter(corpus=piece.corpus)
            .first()
        )
    if batch is None:
        return Stimulus.SourceKind.HUMAN, HUMAN
    return Stimulus.SourceKind.MACHINE, batch.model_label


def render_piece(piece_id: int, params: dict | None = None) -> Stimulus:
    """The Stimulus of one piece under one spec, rendered unless it already exists."""
    spec = StimulusSpec.from_dict(params)
    piece = Piece.objects.select_related("corpus").get(pk=piece_id)
    kind, label = source_of(piece)
    stimulus, _ = Stimulus.objects.get_or_create(
        piece=piece,
        spec_hash=spec.fingerprint(),
        defaults={"source_kind": kind, "source_label": label, "params": spec.as_dict()},
    )
    if stimulus.status in (Stimulus.Status.READY, Stimulus.Status.REFUSED):
        return stimulus
    try:
        midi = read_stored(piece.midi.name, piece.midi.storage)
        rendered = prepare_stimulus(midi, spec, str(settings.SOUNDFONT))
    except (MidiError, ExcerptRefused) as exc:
        return _close(stimulus, Stimulus.Status.REFUSED, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        _close(stimulus, Stimulus.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    name = secrets.token_urlsafe(18)  # random: says nothing of the piece, source or order
    files = {"audio_mp3": (f"{name}.mp3", rendered.mp3), "audio_ogg": (f"{name}.ogg", rendered.ogg)}
    if rendered.roll_png is not None:
        files["roll_png"] = (f"{secrets.token_urlsafe(18)}.png", rendered.roll_png)
    _store(stimulus, files)
    facts = rendered.facts
    stimulus.duration_seconds = facts.duration_seconds
    stimulus.loudness_lufs = facts.loudness_lufs
    stimulus.facts = asdict(facts)
    stimulus.source_kind, stimulus.source_label = kind, label
    return _close(stimulus, Stimulus.Status.READY, "")


def _store(stimulus: Stimulus, files: dict[str, tuple[str, bytes]]) -> None:
    """Stores the stimulus's files side by side; files maps a field to (file name, bytes)."""
    paths = {
        field: Stimulus._meta.get_field(field).generate_filename(stimulus, name)
        for field, (name, _) in files.items()
    }
    saved = save_all({paths[field]: data for field, (_, data) in files.items()})
    for field, path in paths.items():
        getattr(stimulus, field).name = saved[path]


def _close(stimulus: Stimulus, status: str, error: str) -> Stimulus:
    stimulus.status, stimulus.error = status, error
    stimulus.save()
    return stimulus


def pieces_to_render(
    batch_id: int | None = None,
    corpus: str | None = None,
    split: str | None = None,
    n: int | None = None,
    include_copies: bool = False,
) -> QuerySet[Piece]:
    """A generation batch's pieces (copies of their corpus left out unless asked for), or
    a corpus's (optionally one split), first n by id."""
    if batch_id is not None:
        batch = GenerationBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise ValueError(f"there is no generation batch {batch_id}")
        if include_copies:
            pieces = Piece.objects.filter(generations__batch=batch).distinct()
        else:
            pieces = batch.study_pieces()
    elif corpus is not None:
        if not Corpus.objects.filter(slug=corpus).exists():
            raise ValueError(f"there is no corpus {corpus!r} (import it first)")
        pieces = Piece.objects.filter(corpus__slug=corpus)
        if split:
            pieces = pieces.filter(split=split)
    else:
        raise ValueError("name a generation batch or a corpus")
    pieces = pieces.order_by("id")
    return pieces[:n] if n else pieces


@shared_task(bind=True, name="cpu.render_stimulus")
def render_stimulus(self, piece_id: int, params: dict | None = None) -> dict:
    reporter = ProgressReporter(self, total=1, message=f"rendering piece {piece_id}")
    stimulus = render_piece(piece_id, params)
    reporter.advance()
    return {"stimulus": stimulus.pk, "status": stimulus.status, "error": stimulus.error}


@shared_task(bind=True, name="cpu.render_stimuli")
def render_stimuli(self, piece_ids: list[int], params: dict | None = None) -> dict:
    """Fan out: one render_stimulus per piece, run in parallel by every free cpu worker process.

    It does not wait for them (a task waiting on tasks can starve the pool); the group's id lets
    a caller follow them.
    """
    StimulusSpec.from_dict(params)  # bad parameters fail here, once, not in every piece
    fan_out = group(render_stimulus.s(pid, params) for pid in piece_ids).apply_async()
    fan_out.save()
    return {"group": fan_out.id, "pieces": len(piece_ids)}
