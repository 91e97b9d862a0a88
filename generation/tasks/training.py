"""Training runs on the gpu queue; `manage.py train` runs the same function in the foreground.

This module only wires the pure training loop (generation.training) to the database: it encodes
a corpus's pieces split by split, records progress and per-epoch metrics on the TrainingRun row,
and scores the best checkpoint on the held-out test split. Re-running a run resumes it from its
last checkpoint, so a worker that dies mid-run loses at most one epoch. Checkpoints go to
shared storage every epoch (generation.checkpoint_store), so any worker, on any machine, can
resume the run or generate from it.
"""

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from generation.checkpoint_store import (
    delete_checkpoints,
    fetch_checkpoint,
    superseded,
    upload_checkpoint,
    working_folder,
)
from generation.encoding.pianoroll import DEFAULT_STEPS_PER_BEAT, flatten, midi_to_roll
from generation.encoding.tokens import (
    DEFAULT_STEP_BEATS,
    Vocabulary,
    common_voicings,
    midi_to_events,
    midi_to_tokens,
)
from generation.models import Corpus, Piece, TrainingRun
from generation.models.runs import Status, TakenOver
from generation.tasks.queueing import send_to_queue
from generation.training import (
    BatchCallback,
    TrainConfig,
    TrainingData,
    evaluate_pieces,
    load_checkpoint,
    resolve_device,
    train,
)
from worker.progress import ProgressReporter


def create_training_run(
    corpus: Corpus, config: TrainConfig, steps_per_beat: int = DEFAULT_STEPS_PER_BEAT
) -> TrainingRun:
    """A pending run; the device "auto" becomes the TORCH_DEVICE setting of the worker."""
    if steps_per_beat < 1:
        raise ValueError("steps_per_beat must be at least 1")
    if not corpus.pieces.filter(split="train").exists():
        raise ValueError(f"corpus {corpus.slug!r} has no training pieces; import some first")
    config = config.resolved()
    if config.model == "token_lstm":
        encoding = {"representation": "tokens", "step_beats": DEFAULT_STEP_BEATS}
    else:
        encoding = {"representation": "roll", "steps_per_beat": steps_per_beat}
        if config.input_dim != 176:
            raise ValueError("corpus rolls have 176 features (88 keys x onset/sustain)")
    return TrainingRun.objects.create(
        corpus=corpus, model_kind=config.model, config=asdict(config), encoding=encoding
    )


def encode_split(corpus: Corpus, split: str, encoding: dict) -> tuple[list[Piece], list]:
    """Each piece of a split in the run's representation: roll frames (T, 176) or token strings."""
    pieces = list(corpus.pieces.filter(split=split).order_by("content_hash"))
    if encoding["representation"] == "tokens":
        return pieces, [midi_to_tokens(p.load_midi()) for p in pieces]
    spb = encoding["steps_per_beat"]
    return pieces, [flatten(midi_to_roll(p.load_midi(), spb)) for p in pieces]


def token_events(corpus: Corpus, split: str) -> tuple[list[Piece], list]:
    """Each piece of a split as (token, pitches) events (tokens.midi_to_events): its tokens
    with the voicings they stood for, in encode_split's order."""
    pieces = list(corpus.pieces.filter(split=split).order_by("content_hash"))
    return pieces, [midi_to_events(p.load_midi()) for p in pieces]


def as_indices(sequences: list[list[str]], vocabulary: Vocabulary) -> list[np.ndarray]:
    """Token strings to index arrays; tokens the training split never had are dropped (the
    model cannot name them), and `unknown_steps` counts them so scores say what they left out."""
    return [np.array(vocabulary.encode(s, skip_unknown=True), dtype=np.int64) for s in sequences]


def unknown_steps(sequences: list[list[str]], vocabulary: Vocabulary) -> int:
    return sum(token not in vocabulary.index for sequence in sequences for token in sequence)


def load_training_data(run: TrainingRun) -> tuple[TrainingData, dict, dict]:
    """(data, encoding with the vocabulary filled in, summary of what was used)."""
    encoding = dict(run.encoding)
    tokens = encoding["representation"] == "tokens"
    if tokens:
        train_events = token_events(run.corpus, "train")[1]
        train_seqs = [[token for token, _ in piece] for piece in train_events]
    else:
        train_seqs = encode_split(run.corpus, "train", encoding)[1]
    _, valid_seqs = encode_split(run.corpus, "valid", encoding)
    if not valid_seqs:
        raise ValueError(f"corpus {run.corpus.slug!r} has no validation pieces")
    vocab_size = None
    summary = {}
    if tokens:
        vocabulary = Vocabulary.from_sequences(train_seqs)
        encoding["vocabulary"] = vocabulary.tokens
        encoding["voicings"] = common_voicings(train_events)
        summary["valid_unknown_steps"] = unknown_steps(valid_seqs, vocabulary)
        train_seqs = as_indices(train_seqs, vocabulary)
        valid_seqs = as_indices(valid_seqs, vocabulary)
        vocab_size = len(vocabulary)
    summary |= {
        "train_pieces": len(train_seqs),
        "valid_pieces": len(valid_seqs),
        "train_steps": int(sum(len(s) for s in train_seqs)),
        "valid_steps": int(sum(len(s) for s in valid_seqs)),
    }
    return TrainingData(train_seqs, valid_seqs, vocab_size), encoding, summary


def score_test_split(run: TrainingRun, config: TrainConfig, encoding: dict) -> dict:
    """The best checkpoint on the test split, every step of every piece scored once (for
    tokens, every step the vocabulary can name; the others are counted as unknown_steps)."""
    _, test_seqs = encode_split(run.corpus, "test", encoding)
    unknown = {}
    if encoding["representation"] == "tokens":
        vocabulary = Vocabulary(encoding["vocabulary"])
        unknown["unknown_steps"] = unknown_steps(test_seqs, vocabulary)
        test_seqs = as_indices(test_seqs, vocabulary)
    pieces = [s for s in test_seqs if len(s) > 1]
    if not pieces:
        return unknown
    device = resolve_device(config.device)
    network = load_checkpoint(fetch_checkpoint(run.best_checkpoint), device).network
    return evaluate_pieces(network, config, pieces, device) | unknown


def execute_training_run(
    run: TrainingRun,
    on_batch: BatchCallback | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> TrainingRun:
    """Train (or resume) the run and record everything on its row; failures are recorded too.

    An attempt whose run was restarted meanwhile (the row names another task: its worker only
    looked lost) stops at its next write and leaves the row and checkpoints to the new owner.
    """
    if run.status == Status.SUCCEEDED:
        return run
    config = TrainConfig.from_dict(run.config)
    if config.device == "auto":
        config = TrainConfig.from_dict({**run.config, "device": settings.TORCH_DEVICE})
    with contextlib.suppress(TakenOver):
        _train_while_owned(run, config, on_batch, on_epoch)
    return run


def _train_while_owned(run: TrainingRun, config: TrainConfig, on_batch, on_epoch) -> None:
    started = run.started or timezone.now()
    run.save_if_owned(
        status=Status.RUNNING, error="", started=started, message="encoding the corpus"
    )
    with run.failure_recorded():
        data, encoding, summary = load_training_data(run)
        device = str(resolve_device(config.device))
        run.save_if_owned(
            encoding=encoding, data_summary=summary, device=device, message="training"
        )

        stale: set[str] = set()

        def store_checkpoints(epoch: int, last: Path, best: Path | None) -> None:
            run.check_still_owned()
            stored = {"last": upload_checkpoint(run.pk, last, epoch)}
            if best is not None:
                stored["best"] = upload_checkpoint(run.pk, best, epoch)
            recorded = {**run.checkpoints, **stored}
            stale.update(superseded(run.checkpoints, recorded))
            run.checkpoints = recorded

        def record_epoch(metrics: dict) -> None:
            run.save_if_owned(
                history=run.history[: metrics["epoch"] - 1] + [metrics],
                baseline_nll=metrics["baseline_nll"],
                progress=metrics["epoch"] / config.epochs,
                message=f"epoch {metrics['epoch']}: valid loss {metrics['valid_loss']:.4f}",
                checkpoints=run.checkpoints,
            )
            delete_checkpoints(stale)
            stale.clear()
            if on_epoch:
                on_epoch(metrics)

        folder = working_folder(run.pk, run.checkpoints.get("last"))
        try:
            result = train(
                config, data, folder, encoding, on_batch, record_epoch, store_checkpoints
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        run.save_if_owned(
            history=result.history,
            best_epoch=result.best_epoch,
            best_valid_loss=result.best_valid_loss,
            baseline_nll=result.baseline_nll,
            stopped_early=result.stopped_early,
            device=result.device,
            message="scoring the test split",
        )
        test_metrics = score_test_split(run, config, encoding)
    run.save_if_owned(
        test_metrics=test_metrics,
        status=Status.SUCCEEDED,
        progress=1.0,
        finished=timezone.now(),
        message=f"done: best epoch {run.best_epoch}",
    )


def enqueue_training_run(run: TrainingRun) -> str:
    """Queues the run on the gpu queue and returns the task id, stored on the row first."""
    return send_to_queue(run, train_run)


@shared_task(bind=True, name="gpu.train", acks_late=True)
def train_run(self, run_id: int) -> dict:
    """Trains the run if this delivery owns it (Job.claim); a stale copy leaves the row alone."""
    skipped = TrainingRun.claim(run_id, self.request.id or "")
    run = TrainingRun.objects.select_related("corpus").get(pk=run_id)
    if skipped:
        return {"run": run.pk, "status": run.status, "skipped": skipped}
    reporter: list[ProgressReporter] = []
    epochs = TrainConfig.from_dict(run.config).epochs

    def report(epoch: int, batch: int, batches: int) -> None:
        if not reporter:
            reporter.append(ProgressReporter(self, total=epochs * batches, message="training"))
        reporter[0].set(epoch * batches + batch, message=f"epoch {epoch + 1}/{epochs}")

    run = execute_training_run(run, on_batch=report)
    return {"run": run.pk, "status": run.status, "best_epoch": run.best_epoch}
