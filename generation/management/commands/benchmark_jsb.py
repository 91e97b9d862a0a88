"""python manage.py benchmark_jsb --model roll_lstm [--epochs 20 --hidden-size 512 ...]

Trains a roll model on the JSB Chorales benchmark (Boulanger-Lewandowski, Bengio and Vincent,
ICML 2012: quarter-note grid, binary 88-key roll, their train/valid/test split) and reports the
test numbers in their units: negative log-likelihood per time step in nats, summed over the 88
keys, every test frame predicted from the frames before it; and frame accuracy TP/(TP+FP+FN) with
counts summed over all frames. Their table puts an RNN at 8.71 and RNN-NADE at 5.56 nats.
"""

import tempfile
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.encoding.pianoroll import KEYS
from generation.jsb import RESOLUTIONS, load_jsb
from generation.management.commands.train import add_config_arguments, config_from_options
from generation.training import (
    TrainingData,
    evaluate_pieces,
    load_checkpoint,
    resolve_device,
    train,
)

REFERENCE = "Boulanger-Lewandowski et al. 2012: RNN 8.71, RNN-NADE 5.56"
# Likelihood needs calibrated per-key probabilities: plain BCE, and the seq2seq decoder trained
# on the true previous frames (ratio 1.0, which is also the fused fast path).
BENCHMARK_DEFAULTS = {
    "loss": "bce",
    "window": 16,
    "epochs": 20,
    "patience": 5,
    "teacher_forcing_ratio": 1.0,
}


class Command(BaseCommand):
    help = "Train and evaluate a roll model on JSB Chorales; prints test NLL per step and accuracy."

    def add_arguments(self, parser):
        parser.add_argument("--model", choices=["roll_lstm", "seq2seq"], default="roll_lstm")
        parser.add_argument("--resolution", choices=sorted(RESOLUTIONS), default="quarter")
        parser.add_argument("--checkpoint-dir", type=Path, help="default: a temporary folder")
        add_config_arguments(parser)

    def handle(self, *args, **options):
        for name, value in BENCHMARK_DEFAULTS.items():
            if options.get(name) is None:
                options[name] = value
        if options["loss"] == "ce":
            raise CommandError("JSB frames are polyphonic: use --loss bce or focal")
        if options.get("device") is None:
            options["device"] = settings.TORCH_DEVICE
        config = config_from_options(options["model"], options)
        config = replace(config, input_dim=KEYS)
        try:
            splits = load_jsb(options["resolution"], settings.SHARED_DIR)
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        data = TrainingData(splits["train"], splits["valid"])
        if options["checkpoint_dir"]:
            self.run(config, data, splits["test"], options["checkpoint_dir"], options)
        else:
            with tempfile.TemporaryDirectory() as folder:
                self.run(config, data, splits["test"], Path(folder), options)

    def run(self, config, data, test, folder: Path, options) -> None:
        device = resolve_device(config.device)
        self.stdout.write(
            f"JSB Chorales ({options['resolution']}): {config.model}, hidden {config.hidden_size}"
            f" x {config.num_layers}, window {config.window}, loss {config.loss}, on {device}"
        )
        bar = tqdm(desc="training", unit="batch")

        def on_batch(epoch: int, batch: int, batches: int) -> None:
            bar.total = config.epochs * batches
            bar.n = epoch * batches + batch
            bar.refresh()

        def on_epoch(m: dict) -> None:
            tqdm.write(
                f"epoch {m['epoch']:3d} train nll {m['train_nll']:.3f} "
                f"valid nll {m['valid_nll']:.3f} valid frame acc {m['valid_frame_accuracy']:.3f}"
            )

        try:
            result = train(config, data, folder, {"benchmark": "jsb"}, on_batch, on_epoch)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        network = load_checkpoint(result.best_checkpoint, device).network
        scores = evaluate_pieces(network, config, test, device)
        self.stdout.write(
            f"best epoch {result.best_epoch} of {len(result.history)}; "
            f"test: {scores['steps']} time steps in {len(test)} pieces"
        )
        self.stdout.write(
            f"test NLL per time step: {scores['nll']:.3f} nats, summed over {KEYS} keys "
            f"({REFERENCE})"
        )
        self.stdout.write(
            f"test frame accuracy: {scores['frame_accuracy']:.4f} (TP/(TP+FP+FN) over all frames, "
            f"threshold {config.threshold}); precision {scores['precision']:.4f}, "
            f"recall {scores['recall']:.4f}, F1 {scores['f1']:.4f}"
        )
