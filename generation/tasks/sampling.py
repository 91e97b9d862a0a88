"""Generation batches on the gpu queue; `manage.py generate` runs the same code in the foreground.

Wires the pure sampler (generation.sampling) and memorisation index to the database: reads the
run's best checkpoint, samples the whole batch together, writes each sample as MIDI into the
batch's own "generated" corpus, and records every parameter and the memorisation score. Sampling
is seeded, so re-running a batch whose worker died reproduces the same pieces; partial output of
the earlier attempt is replaced, never duplicated.
"""

import contextlib
from collections.abc import Callable

import numpy as np
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generation.checkpoint_store import fetch_checkpoint
from generation.encoding.pianoroll import roll_to_midi, unflatten
from generation.encoding.tokens import Vocabulary, common_voicings, tokens_to_midi
from generation.memorisation import TrainingIndex, roll_transposer, token_transposer
from generation.midi_files import count_pitched_notes, midi_bytes
from generation.models import Corpus, GeneratedPiece, GenerationBatch, Piece, TrainingRun
from generation.models.runs import Status, TakenOver
from generation.sampling import (
    SEED_STRATEGIES,
    SamplingConfig,
    default_mode,
    sample,
    seed_windows,
)
from generation.splits import SPLITS
from generation.tasks.queueing import send_to_queue
from generation.tasks.training import as_indices, encode_split, token_events
from generation.training import (
    LoadedModel,
    load_checkpoint,
    resolve_device,
    silent_frames_before,
)
from worker.progress import ProgressReporter


def is_categorical(run: TrainingRun) -> bool:
    return run.model_kind == "token_lstm" or run.config.get("loss") == "ce"


def create_generation_batch(
    run: TrainingRun,
    n_pieces: int,
    bars: int,
    seed_strategy: str = "zeros",
    sampling_mode: str | None = None,
    temperature: float = 1.0,
    threshold: float = 0.5,
    random_seed: int = 0,
    beats_per_bar: int = 4,
) -> GenerationBatch:
    """A pending batch; every setting is checked here so a bad request changes nothing."""
    if not run.best_checkpoint:
        raise ValueError(f"run {run.pk} has no checkpoint yet; train it first")
    if n_pieces < 1 or bars < 1 or beats_per_bar < 1:
        raise ValueError("the number of pieces, bars and beats per bar must be at least 1")
    mode = sampling_mode or default_mode(is_categorical(run), run.config.get("loss"))
    SamplingConfig(mode, temperature, threshold).check(is_categorical(run))
    if seed_strategy not in SEED_STRATEGIES:
        raise ValueError(f"seed strategy must be one of {', '.join(SEED_STRATEGIES)}")
    if seed_strategy == "zeros" and run.model_kind == "token_lstm":
        raise ValueError(
            "the token model has no silence to start from (a zeros seed would repeat its first "
            "token): seed it with primer or random"
        )
    if seed_strategy == "zeros" and mode == "threshold" and n_pieces > 1:
        raise ValueError(
            "threshold sampling from silence writes the same piece every time: ask for one "
            "piece, sample by drawing (temperature or bernoulli), or seed with primer or random"
        )
    return GenerationBatch.objects.create(
        run=run,
        n_pieces=n_pieces,
        bars=bars,
        beats_per_bar=beats_per_bar,
        seed_strategy=seed_strategy,
        sampling_mode=mode,
        temperature=temperature,
        threshold=threshold,
        random_seed=random_seed,
    )


def steps_for(batch: GenerationBatch, encoding: dict) -> tuple[int, float]:
    """(steps to sample, steps per beat) for the batch's length in bars."""
    if encoding["representation"] == "tokens":
        per_beat = 1.0 / encoding["step_beats"]
    else:
        per_beat = float(encoding["steps_per_beat"])
    return round(batch.bars * batch.beats_per_bar * per_beat), per_beat


def primer_pieces(run: TrainingRun, window: int, n: int, rng: np.random.Generator):
    """n (piece, sequence) pairs from the test split, long enough to prime a window."""
    pieces, sequences = encode_split(run.corpus, "test", run.encoding)
    if run.encoding["representation"] == "tokens":
        sequences = as_indices(sequences, Vocabulary(run.encoding["vocabulary"]))
    usable = [(p, s) for p, s in zip(pieces, sequences, strict=True) if len(s) >= window]
    if not usable:
        raise ValueError(f"no held-out (test) piece has the {window} steps a primer needs")
    order = rng.permutation(len(usable))
    return [usable[order[i % len(usable)]] for i in range(n)]


def corpus_index(corpus: Corpus, encoding: dict) -> tuple[TrainingIndex, Callable]:
    """The memorisation index of every split of a run's corpus, in the run's encoding, with the
    transposer its screen needs. Every split, not the training split alone: primers come from
    the test split, where the human excerpts come from too, and a sample that copies a held-out
    chorale is as much Bach as one that copies a training one (a review found a sample that
    repeated its primer passing a training-split screen in 21 of 23 pieces)."""
    sequences = [seq for split in SPLITS for seq in encode_split(corpus, split, encoding)[1]]
    if encoding["representation"] != "tokens":
        return TrainingIndex(sequences), roll_transposer()
    vocabulary = Vocabulary(encoding["vocabulary"])
    return TrainingIndex(as_indices(sequences, vocabulary)), token_transposer(vocabulary)


def with_voicings(encoding: dict, run: TrainingRun) -> dict:
    """A token checkpoint's encoding with its chords' voicings: a run trained before they were
    kept gets them from its training split now, so its chords too sound in the corpus's
    registers."""
    if encoding["representation"] != "tokens" or "voicings" in encoding:
        return encoding
    voicings = run.encoding.get("voicings") or common_voicings(token_events(run.corpus, "train")[1])
    return {**encoding, "voicings": voicings}


def to_midi(sequence: np.ndarray, encoding: dict):
    if encoding["representation"] == "tokens":
        tokens = Vocabulary(encoding["vocabulary"]).decode(sequence.tolist())
        return tokens_to_midi(
            tokens, step_beats=encoding["step_beats"], voicings=encoding.get("voicings")
        )
    return roll_to_midi(unflatten(sequence), steps_per_beat=encoding["steps_per_beat"])


def execute_generation_batch(
    batch: GenerationBatch, on_step: Callable[[int, int], None] | None = None
) -> GenerationBatch:
    """Sample, save and score the batch; failures are recorded on the row.

    An attempt whose batch was restarted meanwhile (the row names another task: its worker only
    looked lost) stops at its next write and leaves the row and its samples to the new owner.
    """
    if batch.status == Status.SUCCEEDED:
        return batch
    with contextlib.suppress(TakenOver):
        _generate_while_owned(batch, on_step)
    return batch


def _generate_while_owned(batch: GenerationBatch, on_step) -> None:
    started = batch.started or timezone.now()
    batch.save_if_owned(status=Status.RUNNING, error="", message="sampling", started=started)
    with batch.failure_recorded():
        _generate(batch, on_step)
    message = f"{batch.samples.count()} samples"
    batch.save_if_owned(
        status=Status.SUCCEEDED, progress=1.0, finished=timezone.now(), message=message
    )


def _generate(batch: GenerationBatch, on_step) -> None:
    run = batch.run
    device = resolve_device(settings.TORCH_DEVICE)
    loaded: LoadedModel = load_checkpoint(fetch_checkpoint(run.best_checkpoint), device)
    encoding = with_voicings(loaded.metadata, run)
    window = loaded.config.window
    steps, per_beat = steps_for(batch, encoding)
    rng = np.random.default_rng(batch.random_seed)
    tokens = encoding["representation"] == "tokens"
    primers = []
    if batch.seed_strategy == "primer":
        primers = primer_pieces(run, window, batch.n_pieces, rng)
    seeds = seed_windows(
        batch.seed_strategy,
        batch.n_pieces,
        window,
        rng,
        feature_dim=None if tokens else loaded.config.input_dim,
        vocab_size=len(encoding["vocabulary"]) if tokens else None,
        primers=[s for _, s in primers],
    )
    if batch.seed_strategy == "zeros":
        seeds = seeds[:, -silent_frames_before(loaded.config) :]
    sampling = SamplingConfig(batch.sampling_mode, batch.temperature, batch.threshold)
    samples = sample(
        loaded.network,
        run.model_kind,
        seeds,
        steps,
        sampling,
        is_categorical(run),
        seed=batch.random_seed,
        device=device,
        on_step=on_step,
    )
    settings_used = {
        "steps": steps,
        "steps_per_beat": per_beat,
        "window": window,
        "seed_steps": seeds.shape[1],
        "checkpoint_epoch": run.best_epoch,
        "model": run.model_kind,
        "encoding": {k: v for k, v in encoding.items() if k not in ("vocabulary", "voicings")},
    }
    batch.save_if_owned(device=str(device), settings=settings_used, message="scoring memorisation")
    index, transpose = corpus_index(run.corpus, encoding)
    ngram_steps = max(1, round(batch.beats_per_bar * per_beat))
    scores = [
        index.score_in_every_key(s, per_beat, min(ngram_steps, len(s)), transpose) for s in samples
    ]
    _save_samples(batch, samples, primers, scores, encoding, per_beat)


@transaction.atomic
def _save_samples(batch, samples, primers, scores, encoding, per_beat) -> None:
    batch.check_still_owned(lock=True)
    batch.samples.all().delete()
    if batch.corpus is not None:
        batch.corpus.delete()
    batch.corpus = Corpus.objects.create(
        slug=f"generated-run-{batch.run_id}-batch-{batch.pk}",
        title=f"{batch.run.model_kind} run {batch.run_id}, batch {batch.pk}",
        source=Corpus.Source.GENERATED,
    )
    batch.save(update_fields=["corpus"])
    for i, sequence in enumerate(samples):
        pm = to_midi(sequence, encoding)
        n_notes = count_pitched_notes(pm)
        score = scores[i]
        primer = primers[i][0] if primers else None
        piece = _piece_for(batch, i, pm) if n_notes else None
        GeneratedPiece.objects.create(
            batch=batch,
            index=i,
            piece=piece,
            primer=primer,
            n_notes=n_notes,
            **GeneratedPiece.screen_fields(score),
            parameters={
                "run": batch.run_id,
                "batch": batch.pk,
                "index": i,
                "model": batch.run.model_kind,
                "checkpoint_epoch": batch.run.best_epoch,
                "seed_strategy": batch.seed_strategy,
                "primer_piece": primer.pk if primer else None,
                "sampling_mode": batch.sampling_mode,
                "temperature": batch.temperature,
                "threshold": batch.threshold,
                "random_seed": batch.random_seed,
                "bars": batch.bars,
                "beats_per_bar": batch.beats_per_bar,
                "steps": len(sequence),
                "steps_per_beat": per_beat,
                "window": batch.settings["window"],
            },
        )


def _piece_for(batch: GenerationBatch, index: int, pm) -> Piece:
    """The batch corpus's Piece for this music, shared with an identical earlier sample."""
    name = f"sample {index}"
    piece = Piece.from_midi(batch.corpus, name, pm, split="test", title=name)
    existing = batch.corpus.pieces.filter(content_hash=piece.content_hash).first()
    if existing:
        return existing
    piece.store_midi(midi_bytes(pm))
    piece.save()
    return piece


def enqueue_generation_batch(batch: GenerationBatch) -> str:
    """Queues the batch on the gpu queue and returns the task id, stored on the row first."""
    return send_to_queue(batch, generate_batch)


@shared_task(bind=True, name="gpu.generate", acks_late=True)
def generate_batch(self, batch_id: int) -> dict:
    """Generates the batch if this delivery owns it (Job.claim); a stale copy leaves it alone."""
    skipped = GenerationBatch.claim(batch_id, self.request.id or "")
    batch = GenerationBatch.objects.select_related("run", "run__corpus").get(pk=batch_id)
    if skipped:
        return {"batch": batch.pk, "status": batch.status, "skipped": skipped}
    reporter: list[ProgressReporter] = []

    def report(done: int, total: int) -> None:
        if not reporter:
            reporter.append(ProgressReporter(self, total=total, message="sampling"))
        reporter[0].set(done)

    batch = execute_generation_batch(batch, on_step=report)
    return {"batch": batch.pk, "status": batch.status, "samples": batch.samples.count()}
