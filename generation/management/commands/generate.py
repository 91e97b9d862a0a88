"""python manage.py generate --run ID --n 32 --bars 16 [--seed-strategy primer --mode bernoulli ...]

Samples a batch from a training run's best checkpoint in the foreground with a progress bar (the
same code the gpu worker runs), or with --enqueue hands it to the gpu queue.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.models import TrainingRun
from generation.sampling import SAMPLING_MODES, SEED_STRATEGIES
from generation.tasks.queueing import QueueUnavailable
from generation.tasks.sampling import (
    create_generation_batch,
    enqueue_generation_batch,
    execute_generation_batch,
)
from worker.torch_threads import apply_torch_threads


class Command(BaseCommand):
    help = "Generate a batch of pieces from a trained run; each is saved as MIDI with its settings."

    def add_arguments(self, parser):
        parser.add_argument("--run", type=int, required=True, help="training run id")
        parser.add_argument("--n", type=int, default=32, help="number of pieces (default 32)")
        parser.add_argument("--bars", type=int, default=16, help="length in bars (default 16)")
        parser.add_argument(
            "--beats-per-bar", type=int, default=4, help="in quarter notes (default 4)"
        )
        parser.add_argument("--seed-strategy", choices=SEED_STRATEGIES, default="primer")
        parser.add_argument(
            "--mode",
            choices=SAMPLING_MODES,
            help="default: temperature (tokens, ce), threshold (focal), bernoulli (bce)",
        )
        parser.add_argument("--temperature", type=float, default=1.0)
        parser.add_argument("--threshold", type=float, default=0.5)
        parser.add_argument("--seed", type=int, default=0, help="random seed of the batch")
        parser.add_argument("--enqueue", action="store_true", help="run on the gpu queue")

    def handle(self, *args, **options):
        run = TrainingRun.objects.select_related("corpus").filter(pk=options["run"]).first()
        if run is None:
            raise CommandError(f"no training run {options['run']}")
        try:
            batch = create_generation_batch(
                run,
                n_pieces=options["n"],
                bars=options["bars"],
                seed_strategy=options["seed_strategy"],
                sampling_mode=options["mode"],
                temperature=options["temperature"],
                threshold=options["threshold"],
                random_seed=options["seed"],
                beats_per_bar=options["beats_per_bar"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["enqueue"]:
            try:
                task_id = enqueue_generation_batch(batch)
            except QueueUnavailable as exc:
                raise CommandError(f"batch {batch.pk} {exc}") from exc
            self.stdout.write(f"batch {batch.pk} queued on gpu as task {task_id}")
            return
        apply_torch_threads()
        batch.take_for_foreground()
        with tqdm(desc=f"batch {batch.pk}", unit="step") as bar:

            def on_step(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                batch = execute_generation_batch(batch, on_step=on_step)
            except ValueError as exc:
                raise CommandError(f"batch {batch.pk} failed: {exc}") from exc
            finally:
                batch.release_foreground()
        samples = list(batch.samples.all())
        silent = sum(1 for s in samples if s.piece_id is None)
        distinct = len({s.piece_id for s in samples if s.piece_id})
        longest = max(s.longest_verbatim_beats for s in samples)
        self.stdout.write(
            f"batch {batch.pk}: {len(samples)} samples ({distinct} distinct pieces, {silent} "
            f"silent) in corpus {batch.corpus.slug}; longest verbatim copy {longest:g} beats"
        )
