"""One RollSeq2Seq training step: the fused decoder against the seed's per-time-step loop.

Baseline (kept here only as the reference): the seed's Seq2Seq.forward, which called the decoder
LSTM once per time step, ran the classifier on that one step, thresholded it and wrote it into a
preallocated output, even at teacher forcing ratio 1.0. Ours: with ratio 1.0 every decoder input
is known in advance, so RollSeq2Seq runs the decoder as ONE LSTM call over the window. Same
module, same weights, same batch, same focal loss; forward + backward + Adam step, timed alike.

    python bench/bench_seq2seq_step.py [--batch 64 --window 100 --hidden 512 --device auto]

Wants: ratio >= 1.5 on CPU.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from generation.metrics import Objective  # noqa: E402
from generation.networks import RollSeq2Seq  # noqa: E402
from generation.training import resolve_device  # noqa: E402


def seed_forward(model: RollSeq2Seq, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The seed's loop at teacher forcing 1.0: one decoder call and one classifier call a step."""
    _, (hn, cn) = model.encoder(x)
    seq_len = y.shape[1]
    outputs = torch.zeros(y.shape[0], seq_len, model.input_dim, device=y.device)
    step_input = y[:, 0].view(y.shape[0], 1, y.shape[2])
    for t in range(1, seq_len):
        output, (hn, cn) = model.decoder(step_input, (hn, cn))
        logits = model.classifier(output)
        _ = (logits > 0.0).float()  # the seed thresholded every step for the non-forced case
        step_input = y[:, t].view(y.shape[0], 1, y.shape[2])
        outputs[:, t] = logits.view(y.shape[0], -1)
    return outputs


def fused_forward(model: RollSeq2Seq, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return model(x, y, teacher_forcing_ratio=1.0)


def step_time(forward, model, optimiser, objective, x, y, device) -> float:
    """Seconds of one training step: forward, loss, backward and Adam update."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    optimiser.zero_grad(set_to_none=True)
    logits = forward(model, x, y)
    loss = objective(logits.reshape(-1, logits.shape[-1]), y.reshape(-1, y.shape[-1]))
    loss.backward()
    optimiser.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def median_step_times(forwards, repeats: int, *setup) -> list[float]:
    """Median step time of each forward, after one warm-up step each. The forwards take turns,
    step by step, so a slow spell on the machine falls on both sides alike."""
    for forward in forwards:
        step_time(forward, *setup)
    times = [[] for _ in forwards]
    for _ in range(repeats):
        for forward, own in zip(forwards, times, strict=True):
            own.append(step_time(forward, *setup))
    return [statistics.median(own) for own in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    torch.manual_seed(0)
    model = RollSeq2Seq(hidden_size=args.hidden).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    objective = Objective("focal")
    x = (torch.rand(args.batch, args.window, model.input_dim, device=device) < 0.05).float()
    y = (torch.rand(args.batch, args.window, model.input_dim, device=device) < 0.05).float()
    print(
        f"RollSeq2Seq 176 -> {args.hidden} x 2, batch {args.batch}, window {args.window}, "
        f"on {device}, {torch.get_num_threads()} threads"
    )
    baseline, ours = median_step_times(
        [seed_forward, fused_forward], args.repeats, model, optimiser, objective, x, y, device
    )
    print(f"seed per-step decoder loop: {baseline * 1000:8.1f} ms per training step")
    print(f"fused decoder (ratio 1.0):  {ours * 1000:8.1f} ms per training step")
    print(f"ratio: {baseline / ours:.2f}x faster (wanted >= 1.5x on CPU)")


if __name__ == "__main__":
    main()
