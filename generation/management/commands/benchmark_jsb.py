"""python manage.py benchmark_jsb --model roll_lstm [--epochs 20 --hidden-size 512 --head nade]

Trains a roll model on the JSB Chorales benchmark (Boulanger-Lewandowski, Bengio and Vincent,
ICML 2012: quarter-note grid, binary 88-key roll, their train/valid/test split) and reports the
test numbers in their units: negative log-likelihood per time step in nats, summed over the 88
keys; and frame accuracy TP/(TP+FP+FN) with counts summed over all frames. By default each test
piece is scored once from its first frame with the state carried to its end, as their tables
are (--protocol window predicts each frame from the `window` frames before it alone).
Published: RNN 8.71, RNN-NADE 5.56 (5.19 with Hessian-free training); Chung et al. (2014):
LSTM 8.67, GRU 8.54.
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
    NOT_LEARNED,
    PROTOCOLS,
    TrainingData,
    evaluate_pieces,
    learning_line,
    load_checkpoint,
    resolve_device,
    train,
)

REFERENCE = "published: RNN 8.71, LSTM 8.67, GRU 8.54, RNN-NADE 5.19-5.56"
# Likelihood needs calibrated per-key probabilities: plain BCE, and the seq2seq decoder trained
# on the true previous frames (ratio 1.0, which is also the fused fast path). The seq2one models
# take their loss at every step of 32-step chunks, four chunks a batch: the 229 training
# chorales make about 450 chunks, so an epoch is about 110 updates.
BENCHMARK_DEFAULTS = {
    "loss": "bce",
    "window": 32,
    "batch_size": 4,
    "epochs": 20,
    "patience": 5,
    "teacher_forcing_ratio": 1.0,
}
SEQ2SEQ_DEFAULTS = {"window": 16, "stride": 4, "batch_size": 16}


class Command(BaseCommand):
    help = "Train and evaluate a roll model on JSB Chorales; prints test NLL per step and accuracy."

    def add_arguments(self, parser):
        parser.add_argument("--model", choices=["roll_lstm", "seq2seq"], default="roll_lstm")
        parser.add_argument("--resolution", choices=sorted(RESOLUTIONS), default="quarter")
        parser.add_argument("--checkpoint-dir", type=Path, help="default: a temporary folder")
        parser.add_argument(
            "--protocol",
            choices=PROTOCOLS,
            default="piece",
            help="piece: each test piece once from its first frame, state carried (default); "
            "window: each frame from the window before it alone",
        )
        add_config_arguments(parser)

    def handle(self, *args, **options):
        defaults = BENCHMARK_DEFAULTS | (SEQ2SEQ_DEFAULTS if options["model"] == "seq2seq" else {})
        for name, value in defaults.items():
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
            f" x {config.num_layers}, {config.head} head, window {config.window}, loss "
            f"{config.loss} at {config.positions} positions, on {device}"
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
        protocol = options["protocol"]
        scores = evaluate_pieces(network, config, test, device, protocol=protocol)
        self.stdout.write(
            f"best epoch {result.best_epoch} of {len(result.history)}; "
            f"{learning_line(result.best_valid_nll, result.baseline_nll, result.previous_step_nll)}"
        )
        if not result.learned:
            self.stdout.write(self.style.WARNING(NOT_LEARNED))
        self.stdout.write(
            f"test: {scores['steps']} time steps in {len(test)} pieces, "
            f"{PROTOCOL_WORDS[config.model if config.model == 'seq2seq' else protocol]}"
        )
        self.stdout.write(
            f"test NLL per time step: {scores['nll']:.3f} nats, summed over {KEYS} keys "
            f"({REFERENCE})"
        )
        self.stdout.write(
            f"test frame accuracy: {scores['frame_accuracy']:.4f} (TP/(TP+FP+FN) over all frames, "
            f"{ACCURACY_WORDS[config.head].format(threshold=config.threshold)}); "
            f"precision {scores['precision']:.4f}, recall {scores['recall']:.4f}, "
            f"F1 {scores['f1']:.4f}"
        )


PROTOCOL_WORDS = {
    "piece": "protocol piece: each piece once from its first frame, the state carried to its end",
    "window": "protocol window: each frame from the window of frames before it alone",
    "seq2seq": "protocol piece, block by block: each block decoded from the encoded block before",
}
ACCURACY_WORDS = {
    "independent": "keys above probability {threshold}",
    "nade": "greedy frames: each key on when more likely than not given the keys below it",
}
