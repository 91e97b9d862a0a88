"""python manage.py train --model seq2seq --corpus bach --epochs 20 [--hidden-size 64 ...]

Trains in the foreground with a progress bar (the same code the gpu worker runs), or with
--enqueue hands the run to the gpu queue. --resume ID continues a run from its last checkpoint.
"""

from dataclasses import fields

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.models import Corpus, TrainingRun
from generation.models.runs import Status
from generation.networks import HEADS, MODEL_KINDS
from generation.tasks.queueing import QueueUnavailable
from generation.tasks.training import (
    create_training_run,
    enqueue_training_run,
    execute_training_run,
)
from generation.training import (
    BIAS_INITS,
    NOT_LEARNED,
    OPTIMIZERS,
    POSITIONS,
    TrainConfig,
)
from worker.torch_threads import apply_torch_threads

# command-line flag -> TrainConfig field, for every setting a researcher may change
OPTIONS = {
    "epochs": int,
    "batch_size": int,
    "window": int,
    "stride": int,
    "max_windows": int,
    "hidden_size": int,
    "num_layers": int,
    "dropout": float,
    "dense_size": int,
    "dense_dropout": float,
    "embedding_dim": int,
    "threshold": float,
    "focal_alpha": float,
    "focal_gamma": float,
    "teacher_forcing_ratio": float,
    "learning_rate": float,
    "weight_decay": float,
    "grad_clip": float,
    "lr_decay": float,
    "lr_patience": int,
    "nade_hidden": int,
    "patience": int,
    "seed": int,
    "device": str,
}


def add_config_arguments(parser) -> None:
    """Flags for every TrainConfig setting; unset flags keep the seed's defaults."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    for name, kind in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        default = "the network's" if defaults[name] is None else defaults[name]
        parser.add_argument(flag, type=kind, dest=name, help=f"default {default}")
    parser.add_argument("--loss", choices=["ce", "bce", "focal"], help="default: the network's")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help="default: the seed's")
    parser.add_argument("--head", choices=HEADS, help="output head (default: the network's)")
    parser.add_argument("--positions", choices=POSITIONS, help="loss at the last or every step")
    parser.add_argument("--bias-init", choices=BIAS_INITS, help="default marginal")


def config_from_options(model: str, options: dict) -> TrainConfig:
    names = [*OPTIONS, "loss", "optimizer", "head", "positions", "bias_init"]
    chosen = {k: options[k] for k in names if options.get(k) is not None}
    try:
        return TrainConfig(model=model, **chosen).resolved()
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = "Train one of the seed networks on a corpus (foreground with a progress bar, or queued)."

    def add_arguments(self, parser):
        parser.add_argument("--model", choices=MODEL_KINDS, help="which seed network")
        parser.add_argument("--corpus", help="slug of an imported corpus, e.g. bach")
        parser.add_argument("--steps-per-beat", type=int, default=4, help="roll grid (default 4)")
        parser.add_argument("--resume", type=int, metavar="RUN_ID", help="continue this run")
        parser.add_argument("--enqueue", action="store_true", help="run on the gpu queue")
        add_config_arguments(parser)

    def handle(self, *args, **options):
        if options["resume"]:
            run = TrainingRun.objects.filter(pk=options["resume"]).first()
            if run is None:
                raise CommandError(f"no training run {options['resume']}")
        else:
            run = self.new_run(options)
        if options["enqueue"]:
            if run.status in (Status.SUCCEEDED, Status.RUNNING):
                raise CommandError(
                    f"run {run.pk} is {run.status}; nothing to queue (a running run whose "
                    "worker is gone restarts from the dashboard)"
                )
            TrainingRun.objects.filter(pk=run.pk).update(
                status=Status.PENDING, error="", finished=None
            )
            try:
                task_id = enqueue_training_run(run)
            except QueueUnavailable as exc:
                raise CommandError(f"run {run.pk} {exc}") from exc
            self.stdout.write(f"run {run.pk} queued on gpu as task {task_id}")
            return
        apply_torch_threads()
        run.take_for_foreground()
        self.stdout.write(f"run {run.pk}: {run.model_kind} on {run.corpus.slug}")
        bar = tqdm(desc=f"run {run.pk}", unit="batch")

        def on_batch(epoch: int, batch: int, batches: int) -> None:
            bar.total = run.config["epochs"] * batches
            bar.n = epoch * batches + batch
            bar.set_postfix_str(f"epoch {epoch + 1}", refresh=False)
            bar.refresh()

        def on_epoch(m: dict) -> None:
            tqdm.write(epoch_line(m))

        try:
            run = execute_training_run(run, on_batch=on_batch, on_epoch=on_epoch)
        except ValueError as exc:
            raise CommandError(f"run {run.pk} failed: {exc}") from exc
        finally:
            bar.close()
            run.release_foreground()
        self.stdout.write(
            f"run {run.pk} done on {run.device}: best epoch {run.best_epoch}, "
            f"valid loss {run.best_valid_loss:.4f}"
            + (" (stopped early)" if run.stopped_early else "")
        )
        self.stdout.write(run.learning_line())
        if run.not_learned:
            self.stdout.write(self.style.WARNING(NOT_LEARNED))
        if run.test_metrics:
            shown = ", ".join(
                f"{k} {v}" if isinstance(v, int) else f"{k} {v:.4f}"
                for k, v in run.test_metrics.items()
            )
            self.stdout.write(f"test split: {shown}")
        if run.best_checkpoint:
            self.stdout.write(f"checkpoint: {run.best_checkpoint['key']} (in media storage)")

    def new_run(self, options) -> TrainingRun:
        if not options["model"] or not options["corpus"]:
            raise CommandError("give --model and --corpus (or --resume RUN_ID)")
        corpus = Corpus.objects.filter(slug=options["corpus"]).first()
        if corpus is None:
            known = ", ".join(Corpus.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(
                f"no corpus {options['corpus']!r} (imported: {known}); "
                "run `python manage.py import_corpus bach` first"
            )
        config = config_from_options(options["model"], options)
        try:
            return create_training_run(corpus, config, options["steps_per_beat"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc


def epoch_line(m: dict) -> str:
    """One epoch's numbers: the seed's accuracy beside the metrics that mean something."""
    keys = ["loss", "accuracy", "nll", "f1", "frame_accuracy"]
    parts = [f"epoch {m['epoch']:3d}"]
    for split in ("train", "valid"):
        shown = " ".join(f"{k} {m[f'{split}_{k}']:.4f}" for k in keys if f"{split}_{k}" in m)
        parts.append(f"{split}: {shown}")
    return " | ".join(parts)
