"""Every-step loss against the seed's last-step loss: wall-clock time to a validation NLL.

Baseline: the seed's seq2one training, the loss at the last step of every window (stride 1, 64
windows a batch). Ours: the loss at every step of chunks cut from whole pieces (positions
"all", 4 chunks of 32 steps a batch, the benchmark_jsb defaults). Same roll_lstm on the JSB
Chorales (quarter notes), the same validation on whole pieces after every epoch. The two take
turns epoch by epoch (each resumes its own checkpoint), so a slow spell on the machine falls on
both alike; each side's clock counts its epochs until its validation NLL first reaches --target.

    python bench/bench_positions.py [--hidden 256 --target 8.8 --max-epochs 20 --threads 2]

Prints the ratio baseline seconds / ours (above 1: every-step training gets there sooner).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from generation.jsb import load_jsb  # noqa: E402
from generation.training import TrainConfig, TrainingData, train  # noqa: E402

SIDES = {
    "last step (the seed's)": {"positions": "last", "window": 16, "batch_size": 64},
    "every step": {"positions": "all", "window": 32, "batch_size": 4},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--target", type=float, default=8.8, help="validation NLL to reach")
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    splits = load_jsb("quarter")
    data = TrainingData(splits["train"], splits["valid"])
    common = dict(model="roll_lstm", input_dim=88, loss="bce", hidden_size=args.hidden)
    common |= dict(patience=None, device="cpu")
    print(f"roll_lstm {args.hidden} units on JSB (quarter), until valid NLL <= {args.target}")
    clock = dict.fromkeys(SIDES, 0.0)
    reached: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        for epoch in range(1, args.max_epochs + 1):
            for name, settings in SIDES.items():
                if name in reached:
                    continue
                config = TrainConfig(**common, **settings, epochs=epoch)
                start = time.perf_counter()
                result = train(config, data, Path(folder) / settings["positions"])
                clock[name] += time.perf_counter() - start
                nll = result.history[-1]["valid_nll"]
                print(f"{name:>24}: epoch {epoch:2d}, {clock[name]:7.1f} s, valid NLL {nll:.3f}")
                if nll <= args.target:
                    reached[name] = epoch
            if len(reached) == len(SIDES):
                break
    for name in SIDES:
        where = f"epoch {reached[name]}" if name in reached else "not reached"
        print(f"{name:>24}: {clock[name]:7.1f} s ({where})")
    if len(reached) == len(SIDES):
        baseline, ours = clock.values()
        print(f"ratio: {baseline / ours:.2f}x (seed's seconds / every-step seconds to the target)")


if __name__ == "__main__":
    main()
