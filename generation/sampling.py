"""Batched, stateful sampling from the three networks (no Django here).

The seed's predict.py generated one piece at a time and re-ran the network over its whole input
window for every new step. Here a batch of pieces is sampled together and the LSTM state is
carried forward, so each new step costs one recurrent step for the whole batch. A NADE head
decides a frame's keys one after another, each drawn given the keys below it. The seq2seq model
is used as it was trained: the encoder reads the last window, the decoder writes the next one step
by step from that state, and the encoder is re-run once per window, not once per step.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from generation.metrics import frames_from_classes

SEED_STRATEGIES = ("zeros", "random", "primer")
SAMPLING_MODES = ("temperature", "threshold", "bernoulli")
DEFAULT_RANDOM_DENSITY = 0.05


@dataclass(frozen=True)
class SamplingConfig:
    """How a step's logits become a step.

    Categorical outputs (tokens, the roll model trained with "ce"): "temperature" draws from
    softmax(logits / temperature); "threshold" takes the argmax. Per-key outputs ("bce"/"focal"):
    "bernoulli" draws every feature from sigmoid(logits / temperature); "threshold" keeps the
    features whose probability exceeds `threshold`, as the seed's predict did.
    """

    mode: str
    temperature: float = 1.0
    threshold: float = 0.5

    def __post_init__(self):
        if self.mode not in SAMPLING_MODES:
            raise ValueError(f"mode must be one of {', '.join(SAMPLING_MODES)}, not {self.mode!r}")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")

    def check(self, categorical: bool) -> None:
        if categorical and self.mode == "bernoulli":
            raise ValueError("this model predicts one class per step: use temperature or threshold")
        if not categorical and self.mode == "temperature":
            raise ValueError("this model predicts each key on its own: use bernoulli or threshold")


def default_mode(categorical: bool, loss: str | None = None) -> str:
    """Temperature sampling for one class per step; per key, Bernoulli draws where the loss gives
    calibrated probabilities (BCE) and the seed's threshold after focal loss, which raises the
    probability of rare keys on purpose: drawn from, a focal model sounds a cluster of keys at
    every step."""
    if categorical:
        return "temperature"
    return "threshold" if loss == "focal" else "bernoulli"


def seed_windows(
    strategy: str,
    n: int,
    window: int,
    rng: np.random.Generator,
    feature_dim: int | None = None,
    vocab_size: int | None = None,
    primers: Sequence[np.ndarray] = (),
    random_density: float = DEFAULT_RANDOM_DENSITY,
) -> np.ndarray:
    """n seed windows: (n, window) token indices (vocab_size given) or (n, window, D) frames.

    "zeros": silence (token 0 for tokens); "random": uniform tokens, or frames whose features are
    on with probability random_density; "primer": the opening `window` steps of the given held-out
    pieces, piece i taking primer i modulo their number.
    """
    if (feature_dim is None) == (vocab_size is None):
        raise ValueError("give exactly one of feature_dim (rolls) and vocab_size (tokens)")
    shape = (n, window) if vocab_size else (n, window, feature_dim)
    if strategy == "zeros":
        return np.zeros(shape, dtype=np.int64 if vocab_size else np.float32)
    if strategy == "random":
        if vocab_size:
            return rng.integers(0, vocab_size, shape)
        return (rng.random(shape) < random_density).astype(np.float32)
    if strategy == "primer":
        short = [len(p) for p in primers if len(p) < window]
        if not primers or short:
            raise ValueError(f"primer seeds need held-out pieces of at least {window} steps")
        chosen = [np.asarray(primers[i % len(primers)])[:window] for i in range(n)]
        return np.stack(chosen).astype(np.int64 if vocab_size else np.float32)
    raise ValueError(f"seed strategy must be one of {', '.join(SEED_STRATEGIES)}, not {strategy!r}")


class _Picker:
    """Turns (B, C) logits into the next step, drawing from one seeded generator."""

    def __init__(self, sampling: SamplingConfig, categorical: bool, tokens: bool, generator):
        sampling.check(categorical)
        self.sampling, self.categorical, self.tokens = sampling, categorical, tokens
        self.generator = generator

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        s = self.sampling
        if self.categorical:
            if s.mode == "threshold":
                index = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits / s.temperature, dim=-1)
                index = torch.multinomial(probs, 1, generator=self.generator).squeeze(1)
            if self.tokens:
                return index
            return frames_from_classes(index, logits.shape[-1])
        if s.mode == "threshold":
            return (torch.sigmoid(logits) > s.threshold).float()
        return torch.bernoulli(torch.sigmoid(logits / s.temperature), generator=self.generator)


@torch.no_grad()
def sample(
    network: nn.Module,
    kind: str,
    seeds: np.ndarray,
    steps: int,
    sampling: SamplingConfig,
    categorical: bool,
    seed: int,
    device: torch.device | str = "cpu",
    on_step: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Continue every seed window by `steps` steps; returns only the new steps.

    Tokens: (B, steps) int64. Rolls: (B, steps, D) float32 of 0/1. The same seed, seeds and
    settings give the same pieces.
    """
    if steps < 1:
        raise ValueError("steps must be at least 1")
    device = torch.device(device)
    network.eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    tokens = kind == "token_lstm"
    pick = _Picker(sampling, categorical or tokens, tokens, generator)
    context = torch.as_tensor(seeds, dtype=torch.long if tokens else torch.float32, device=device)
    report = on_step or (lambda done, total: None)
    if kind == "seq2seq":
        out = _sample_seq2seq(network, context, steps, pick, report)
    else:
        out = _sample_stateful(network, context, steps, pick, report)
    return out.cpu().numpy()


def _sample_stateful(network, context, steps, pick, report) -> torch.Tensor:
    hidden, state = network.features(context)
    produced = []
    for t in range(steps):
        step = network.classifier.sample(hidden[:, -1], pick)
        produced.append(step)
        report(t + 1, steps)
        if t + 1 < steps:
            hidden, state = network.features(step.unsqueeze(1), state)
    return torch.stack(produced, dim=1)


def _sample_seq2seq(network, context, steps, pick, report) -> torch.Tensor:
    window = context.shape[1]
    produced: list[torch.Tensor] = []
    while len(produced) < steps:
        state = network.encode(context)
        previous = context[:, -1:]
        block = []
        for _ in range(min(window, steps - len(produced))):
            hidden, state = network.decoder(previous, state)
            frame = network.classifier.sample(hidden[:, 0], pick)
            block.append(frame)
            produced.append(frame)
            report(len(produced), steps)
            previous = frame.unsqueeze(1)
        context = torch.cat([context, torch.stack(block, dim=1)], dim=1)[:, -window:]
    return torch.stack(produced, dim=1)
