"""Generation speed: batched stateful sampling of 64 pieces against the seed's predict.py method.

Baseline (kept here only as the reference): predict.py generated one piece at a time and, for every
new step, ran the network over the whole input window again, took the last output, appended the
chosen step and dropped the window's oldest one. Ours: generation.sampling.sample, all pieces of a
batch together, the LSTM state carried forward so each new step is one recurrent step. Same
network, same weights, same sampling rule; measured in generated steps (frames) per second.
With --head nade ours samples a NADE roll model key by key (176 decisions a frame), against the
seed's predict.py on the seed's network of the same size.

    python bench/bench_generation.py [--model roll_lstm --head nade --pieces 64 --hidden 512]

Wants: ratio >= 50.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from generation.networks import HEADS, RollLSTM, TokenLSTM  # noqa: E402
from generation.sampling import SamplingConfig, sample, seed_windows  # noqa: E402
from generation.training import resolve_device  # noqa: E402

VOCAB = 300  # about the size of a Bach-chorale token vocabulary


@torch.no_grad()
def predict_py(network, kind: str, window: np.ndarray, steps: int, device) -> np.ndarray:
    """The seed's loop for one piece: re-run the whole window for every new step."""
    dtype = torch.long if kind == "token_lstm" else torch.float32
    pattern = torch.as_tensor(window[None], dtype=dtype, device=device)
    produced = []
    for _ in range(steps):
        logits, _ = network(pattern)
        last = logits[:, -1]
        if kind == "token_lstm":
            step = last.argmax(dim=-1, keepdim=True)
        else:
            step = (torch.sigmoid(last) > 0.5).float().unsqueeze(1)
        produced.append(step)
        pattern = torch.cat([pattern[:, 1:], step], dim=1)
    return torch.cat(produced, dim=1)[0].cpu().numpy()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["roll_lstm", "token_lstm"], default="roll_lstm")
    parser.add_argument("--pieces", type=int, default=64)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--head", choices=HEADS, default="independent", help="roll_lstm only")
    parser.add_argument("--baseline-steps", type=int, default=40)
    parser.add_argument("--steps", type=int, default=256, help="steps per piece, batched")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if args.model == "token_lstm":
        network = ours = TokenLSTM(VOCAB, hidden_size=args.hidden).to(device).eval()
        seeds = seed_windows("random", args.pieces, args.window, rng, vocab_size=VOCAB)
        rule, categorical = SamplingConfig("threshold"), True
    else:
        network = RollLSTM(hidden_size=args.hidden).to(device).eval()
        ours = RollLSTM(hidden_size=args.hidden, head=args.head).to(device).eval()
        seeds = seed_windows("random", args.pieces, args.window, rng, feature_dim=176)
        rule, categorical = SamplingConfig("threshold"), False
    print(
        f"{args.model} ({args.head} head), hidden {args.hidden}, window {args.window}, "
        f"on {device}, {torch.get_num_threads()} threads"
    )
    predict_py(network, args.model, seeds[0], 2, device)  # warm-up
    base_s = timed(lambda: predict_py(network, args.model, seeds[0], args.baseline_steps, device))
    base_rate = args.baseline_steps / base_s
    sample(ours, args.model, seeds[:2], 2, rule, categorical, 0, device)  # warm-up
    ours_s = timed(
        lambda: sample(ours, args.model, seeds, args.steps, rule, categorical, 0, device)
    )
    ours_rate = args.pieces * args.steps / ours_s
    print(f"seed predict.py (1 piece, window re-run per step): {base_rate:10.1f} frames/s")
    print(f"batched stateful ({args.pieces} pieces):               {ours_rate:10.1f} frames/s")
    print(f"ratio: {ours_rate / base_rate:.0f}x more frames per second (wanted >= 50x)")


if __name__ == "__main__":
    main()
