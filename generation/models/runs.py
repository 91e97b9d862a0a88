"""Training runs and generation batches: what was trained, how, and what it made.

A GenerationBatch writes its pieces as ordinary Piece rows in a corpus of its own (source
"generated"), so the stimulus pipeline treats them exactly like human pieces; GeneratedPiece
keeps, per sample, every parameter that made it and its memorisation score. A batch comes either
from one of the platform's training runs or from an ExternalGenerator whose MIDI a researcher
imported: studies, balancing, reports and exports see both through the batch alone.
"""

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from generation.memorisation import MEMORISED_BEATS, MEMORISED_NGRAM_SHARE, MemorisationScore
from generation.models.corpus import Corpus, Piece
from generation.networks import MODEL_KINDS
from generation.sampling import SAMPLING_MODES, SEED_STRATEGIES
from generation.training import has_learned, learning_line


class Status(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


# A job the researcher stopped is failed with an error that starts with this, saying how to go on.
STOPPED_BY_RESEARCHER = "stopped by the researcher"
STOPPED = f"{STOPPED_BY_RESEARCHER}; resume continues from the last checkpoint"
BATCH_STOPPED = f"{STOPPED_BY_RESEARCHER}; running it again samples the same pieces (same seed)"
# task_id of a row that `manage.py train` or `generate` works on in the foreground: no worker
# holds it, so the dashboard cannot tell whether it still runs, and no queued message may take it.
FOREGROUND = "foreground:"


def is_stopped(status: str, error: str) -> bool:
    return status == Status.FAILED and error.startswith(STOPPED_BY_RESEARCHER)


def skip_reason(status: str, error: str, owner: str, task_id: str) -> str:
    """Why the delivery of task `task_id` must leave a row alone, or "" when it may run it.

    A row belongs to the task whose id it stores (`owner`). Restarting a job stores a new id,
    so the old message, which Redis hands out again once its visibility timeout lapses, finds
    another owner and stops. The first delivery (the id stored before the message was sent) and
    a redelivery of the same id after a crash both run, and so does a row with no owner yet
    (queued by code that does not store ids). A finished row is never run again by a message.
    """
    if is_stopped(status, error):
        return STOPPED_BY_RESEARCHER
    if status in (Status.SUCCEEDED, Status.FAILED):
        return f"already {status}"
    if owner and owner != task_id:
        return f"taken over by task {owner}"
    return ""


def lost_worker_error(lost: int) -> str:
    """Why a job whose worker was lost on every one of its last `lost` deliveries was failed."""
    return (
        f"its worker was lost {lost} time{'s' if lost != 1 else ''} in a row, the job being "
        "delivered again each time "
        f"(at most {settings.JOB_MAX_REDELIVERIES} times, JOB_MAX_REDELIVERIES): a worker "
        "killed while running it, for example by the out-of-memory killer, or its machine "
        "stopping. It was failed rather than delivered forever. Find the cause in the worker's "
        "log (lower the batch size or the model's size, or give the worker more memory), then "
        "resume it from its dashboard page: it continues from its last checkpoint"
    )


class TakenOver(Exception):
    """The row now belongs to another task (a restart): this attempt stops and leaves it alone."""


class Job(models.Model):
    """What every queued job row records: where it stands, on which device, under which task."""

    stopped_error: str  # what a stop writes as the error: how this kind of job goes on

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.FloatField(default=0.0, help_text="share done, 0..1")
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    device = models.CharField(max_length=40, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="when the current attempt was queued or picked up; a job is called orphaned "
        "only a grace period after it",
    )
    deliveries = models.PositiveIntegerField(
        default=0,
        help_text="deliveries of the current task's message that started work; more than one "
        "means workers were lost on the way",
    )

    class Meta:
        abstract = True
        ordering = ["-created"]

    @property
    def attempt_since(self):
        """The latest of creation, first start and the current attempt: grace counts from it."""
        return max(t for t in (self.created, self.started, self.attempt_at) if t is not None)

    @property
    def in_foreground(self) -> bool:
        return self.task_id.startswith(FOREGROUND)

    @classmethod
    def claim(cls, pk: int, task_id: str) -> str:
        """Makes task `task_id` the row's owner unless skip_reason says no; returns that reason
        ("" when claimed). The row is locked while deciding, so two claims cannot both win.

        Each delivery that starts work is counted. A delivery that finds the row running under
        its own task id means the one before lost its worker (killed, say, by the out-of-memory
        killer) and the broker gave the message back. Past JOB_MAX_REDELIVERIES such returns
        the row is failed, with why and how to resume, rather than delivered again forever.
        """
        with transaction.atomic():
            row = cls.objects.select_for_update().get(pk=pk)
            reason = skip_reason(row.status, row.error, row.task_id, task_id)
            if reason:
                return reason
            lost = row.deliveries if row.status == Status.RUNNING and row.task_id == task_id else 0
            now = timezone.now()
            if lost > settings.JOB_MAX_REDELIVERIES:
                error = lost_worker_error(lost)
                cls.objects.filter(pk=pk).update(
                    status=Status.FAILED, error=error, message="its worker kept being lost",
                    finished=now,
                )  # fmt: skip
                return error
            cls.objects.filter(pk=pk).update(
                task_id=task_id, attempt_at=now, deliveries=models.F("deliveries") + 1
            )
        return ""

    def check_still_owned(self, lock: bool = False) -> None:
        """Raises TakenOver when the row names another task than this attempt's, or the
        researcher stopped it.

        A worker too busy to answer the dashboard's question in time can look lost; if a
        researcher restarts its job meanwhile, the attempt still running must not go on and
        overwrite the row (and its checkpoints) under the new owner. A stopped job's worker is
        terminated, but an attempt that gets one more write in first must not undo the stop.
        With `lock` (inside a transaction) the row stays locked until the transaction ends, so
        a restart or stop waits for what the caller writes next rather than landing between the
        check and the writes.
        """
        rows = type(self).objects.filter(pk=self.pk)
        if lock:
            rows = rows.select_for_update()
        owner, status, error = rows.values_list("task_id", "status", "error").get()
        if owner != self.task_id:
            raise TakenOver(f"{self} was taken over by task {owner or '(none yet)'}")
        if is_stopped(status, error):
            raise TakenOver(f"{self} was {STOPPED_BY_RESEARCHER}")

    def save_if_owned(self, **fields) -> None:
        """Sets `fields` and writes them (those alone, never the owner) while this attempt owns
        the row; TakenOver when another task does. The row is locked from the check to the
        write, so a restart lands before it or after it, never in between."""
        with transaction.atomic():
            self.check_still_owned(lock=True)
            for name, value in fields.items():
                setattr(self, name, value)
            self.save(update_fields=list(fields))

    @contextmanager
    def failure_recorded(self) -> Iterator[None]:
        """Marks the row failed, with the error, when the work inside raises, and re-raises;
        a takeover passes through untouched, the row being another attempt's by then."""
        try:
            yield
        except TakenOver:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.save_if_owned(status=Status.FAILED, error=error, message="failed")
            raise

    def stop(self) -> bool:
        """Fails a queued or running job with the kind's `stopped_error`, which every later
        delivery and write of its attempt respects; False when it was neither by then (it
        finished, or another stop came first). Terminating the worker is the caller's part."""
        stopped = (
            type(self)
            .objects.filter(pk=self.pk, status__in=(Status.PENDING, Status.RUNNING))
            .update(
                status=Status.FAILED,
                error=self.stopped_error,
                message="stopped",
                finished=timezone.now(),
            )
        )
        return bool(stopped)

    def take_for_foreground(self) -> None:
        """Marks the row as worked on by this process, so a queued copy of its job skips it.
        A researcher's stop is lifted, as resuming from the dashboard lifts it."""
        self.task_id = f"{FOREGROUND}{socket.gethostname()}:{os.getpid()}"[:64]
        self.attempt_at = timezone.now()
        rows = type(self).objects.filter(pk=self.pk)
        rows.update(task_id=self.task_id, attempt_at=self.attempt_at)
        stopped = rows.filter(status=Status.FAILED, error__startswith=STOPPED_BY_RESEARCHER)
        stopped.update(status=Status.PENDING, error="")

    def release_foreground(self) -> None:
        """Gives up the foreground mark once the command ends, however it ends: a later queued
        job may take the row, and one left "running" (Ctrl-C) shows as orphaned, restartable."""
        if self.in_foreground:
            type(self).objects.filter(pk=self.pk, task_id=self.task_id).update(task_id="")
            self.task_id = ""


class TrainingRun(Job):
    """One network trained on one corpus; its checkpoints live in storage (checkpoint_store)."""

    stopped_error = STOPPED

    corpus = models.ForeignKey(Corpus, on_delete=models.PROTECT, related_name="training_runs")
    model_kind = models.CharField(max_length=20, choices=[(k, k) for k in MODEL_KINDS])
    config = models.JSONField(help_text="the TrainConfig, seed defaults filled in")
    encoding = models.JSONField(
        default=dict, help_text="what generation needs: representation, grid, input dim, vocabulary"
    )
    history = models.JSONField(default=list, help_text="per-epoch train and valid metrics")
    data_summary = models.JSONField(default=dict)
    test_metrics = models.JSONField(default=dict, help_text="best checkpoint on the test split")
    best_epoch = models.PositiveIntegerField(null=True, blank=True)
    best_valid_loss = models.FloatField(null=True, blank=True)
    stopped_early = models.BooleanField(default=False)
    checkpoints = models.JSONField(
        default=dict,
        help_text='the stored checkpoints, "last" and "best": key, size, sha256 and epoch each',
    )
    baseline_nll = models.FloatField(
        null=True,
        blank=True,
        help_text="validation NLL per step of the training split's marginal frequencies: what "
        "a model that ignores its input scores",
    )

    def __str__(self) -> str:
        return f"run {self.pk}: {self.model_kind} on {self.corpus.slug} ({self.status})"

    @property
    def best_valid_nll(self) -> float | None:
        if not self.best_epoch or len(self.history) < self.best_epoch:
            return None
        return self.history[self.best_epoch - 1]["valid_nll"]

    @property
    def previous_step_nll(self) -> float | None:
        """The previous-step baseline (generation.baselines), which every epoch records; None
        for a run trained before it existed."""
        return self.history[-1].get("previous_step_nll") if self.history else None

    def learning_line(self) -> str:
        """Its best validation NLL against its baselines, in words (training.learning_line)."""
        return learning_line(self.best_valid_nll, self.baseline_nll, self.previous_step_nll)

    @property
    def not_learned(self) -> bool:
        """True once a finished run is known to sit at its marginal baseline (see has_learned):
        whatever it generates is noise with the corpus's note frequencies."""
        if self.status != Status.SUCCEEDED or self.baseline_nll is None:
            return False
        nll = self.best_valid_nll
        return nll is not None and not has_learned(nll, self.baseline_nll)

    @property
    def best_checkpoint(self) -> dict | None:
        return self.checkpoints.get("best")


class ExternalGenerator(models.Model):
    """A generator the platform did not train (DeepBach, Coconet, a Music Transformer, ...),
    named as reports will name it, with the corpus it imitates: its imported pieces are screened
    for memorisation against that whole corpus, since its training split is not known."""

    name = models.CharField(max_length=50)
    version = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True, help_text="a short description or a link")
    corpus = models.ForeignKey(
        Corpus,
        on_delete=models.PROTECT,
        related_name="external_generators",
        help_text="the corpus it imitates",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_generator_version")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The source label reports group its excerpts by."""
        return f"{self.name} {self.version}" if self.version else self.name


class GenerationBatch(Job):
    """A batch of pieces sampled together from one run's best checkpoint, or imported together
    from an external generator (then born succeeded: there is nothing to run)."""

    stopped_error = BATCH_STOPPED

    run = models.ForeignKey(
        TrainingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="batches"
    )
    generator = models.ForeignKey(
        ExternalGenerator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="batches",
        help_text="the external generator whose files were imported, for a batch with no run",
    )
    corpus = models.OneToOneField(
        Corpus,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="generation_batch",
        help_text="the corpus holding this batch's pieces",
    )
    n_pieces = models.PositiveIntegerField()
    bars = models.PositiveIntegerField(help_text="0 for an imported batch: each file's length")
    beats_per_bar = models.PositiveIntegerField(default=4)
    seed_strategy = models.CharField(
        max_length=10, choices=[(s, s) for s in SEED_STRATEGIES], blank=True
    )
    sampling_mode = models.CharField(
        max_length=12, choices=[(m, m) for m in SAMPLING_MODES], blank=True
    )
    temperature = models.FloatField(default=1.0)
    threshold = models.FloatField(default=0.5)
    random_seed = models.BigIntegerField(default=0)
    settings = models.JSONField(default=dict, help_text="derived settings: steps, window, epoch")

    class Meta(Job.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(run__isnull=False, generator__isnull=True)
                | models.Q(run__isnull=True, generator__isnull=False),
                name="batch_from_a_run_or_a_generator",
            )
        ]

    def __str__(self) -> str:
        if self.run_id is None:
            return f"batch {self.pk} imported from {self.generator} ({self.status})"
        return f"batch {self.pk} of run {self.run_id} ({self.status})"

    @property
    def imported(self) -> bool:
        return self.run_id is None

    @property
    def model_label(self) -> str:
        """The source label of its excerpts: the network's kind, or the external generator's."""
        return self.generator.label if self.imported else self.run.model_kind

    @property
    def not_learned(self) -> bool:
        return not self.imported and self.run.not_learned

    def study_pieces(self):
        """Pieces fit for a study: sounding, and not copies of their corpus."""
        return Piece.objects.filter(
            generations__batch=self,
            generations__longest_verbatim_beats__lt=MEMORISED_BEATS,
            generations__ngram_share__lt=MEMORISED_NGRAM_SHARE,
        ).distinct()


class GeneratedPiece(models.Model):
    """One sample of a batch. `piece` is null for a silent sample (nothing to listen to); two
    identical samples share one Piece, so a study never counts the same music twice."""

    batch = models.ForeignKey(GenerationBatch, on_delete=models.CASCADE, related_name="samples")
    index = models.PositiveIntegerField()
    piece = models.ForeignKey(
        Piece, on_delete=models.SET_NULL, null=True, blank=True, related_name="generations"
    )
    primer = models.ForeignKey(
        Piece, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    n_notes = models.PositiveIntegerField()
    longest_verbatim_steps = models.PositiveIntegerField()
    longest_verbatim_beats = models.FloatField()
    ngram_steps = models.PositiveIntegerField()
    ngram_share = models.FloatField(help_text="share of n-grams found in the training split")
    verbatim_transposition = models.SmallIntegerField(
        default=0,
        help_text="semitones the sample was moved to find its longest match: a copy in "
        "another key counts as a copy",
    )
    parameters = models.JSONField(help_text="every parameter that made this sample")

    class Meta:
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="unique_sample_index")
        ]

    def __str__(self) -> str:
        return f"sample {self.index} of batch {self.batch_id}"

    @staticmethod
    def screen_fields(score: MemorisationScore) -> dict:
        """The memorisation screen's result as this model's fields, for every kind of batch."""
        return {
            "longest_verbatim_steps": score.longest_steps,
            "longest_verbatim_beats": score.longest_beats,
            "ngram_steps": score.ngram_steps,
            "ngram_share": score.ngram_share,
            "verbatim_transposition": score.transposition,
        }
