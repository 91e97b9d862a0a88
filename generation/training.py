"""The training loop for the three seed networks: pure Python and torch, no Django.

Reproducible by construction: every epoch reseeds torch from (seed, epoch) and draws its window
order from the same pair, and a checkpoint written after every epoch holds the weights, the
optimiser and the loop's bookkeeping. A run killed mid-way therefore resumes from its last
checkpoint and ends exactly where an uninterrupted run would have (on CPU, where kernels are
deterministic). CUDA is used when present, with mixed precision there.
"""

import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from generation.baselines import (
    baseline_nll,
    chord_baseline_nll,
    marginal_logits,
    previous_step_nll,
)
from generation.datasets import ChunkSet, WindowSet, epoch_order
from generation.metrics import LOSSES, MetricTotals, Objective
from generation.networks import (
    HEADS,
    MODEL_KINDS,
    ROLL_INPUT_DIM,
    NADEHead,
    NetworkSpec,
    constructor_defaults,
    network_class,
)

CHECKPOINT_FORMAT = 1
LAST, BEST = "last.pt", "best.pt"
OPTIMIZERS = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}
POSITIONS = ("last", "all")
PROTOCOLS = ("piece", "window")
BIAS_INITS = ("marginal", "zero")
# A run whose validation NLL is not at least 2% below its marginal baseline has not learned
# anything from its input: it predicts the training split's frequencies, whatever it is fed.
LEARNED_SHARE = 0.98
# Settings that runs stored before they existed meant these (the seed's behaviour); a stored
# config without them is read with these values, not with today's defaults.
LEGACY = {
    "positions": "last",
    "grad_clip": 0.0,
    "lr_patience": 0,
    "bias_init": "zero",
    "weight_decay": 0.0,
}
RETIRED = ("max_valid_windows",)  # validation now scores whole pieces: no window sample
# Sizes a network takes from its constructor when the config leaves them unset.
SIZES = ("hidden_size", "num_layers", "dropout", "dense_size", "dense_dropout")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run's result; stored with every checkpoint.

    None means "the network's default" (its constructor's sizes, its `training_defaults`).
    positions: "last" takes the loss at the last step of each window, as the seed did; "all" at
    every step of chunks cut from whole pieces, so every step of the split is a target once per
    epoch. Clipping, weight decay and the learning-rate schedule (multiplied by lr_decay after
    lr_patience epochs without a better validation loss) are recorded like every other setting.
    bias_init "marginal" starts the output layer at the training split's log-odds (log
    frequencies for one class per step): a network started at p = 0.5 for every key, when about
    4 of 88 sound, spends its first updates silencing its head and can stay at the marginal.
    """

    model: str = "seq2seq"
    hidden_size: int | None = None
    num_layers: int | None = None
    dropout: float | None = None
    dense_size: int | None = None
    dense_dropout: float | None = None
    embedding_dim: int | None = None
    head: str | None = None
    nade_hidden: int | None = None
    input_dim: int = ROLL_INPUT_DIM
    loss: str | None = None
    positions: str | None = None
    threshold: float = 0.5
    focal_alpha: float = 0.5
    focal_gamma: float = 2.0
    teacher_forcing_ratio: float = 0.5
    window: int = 100
    stride: int = 1
    max_windows: int | None = None
    optimizer: str | None = None
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    lr_decay: float = 0.5
    lr_patience: int = 3
    bias_init: str = "marginal"
    batch_size: int | None = None
    epochs: int = 100
    patience: int | None = 10
    seed: int = 0
    device: str = "auto"
    amp: bool = True

    def __post_init__(self):
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {', '.join(MODEL_KINDS)}, not {self.model!r}")
        for name in ("input_dim", "window", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("hidden_size", "dense_size", "nade_hidden", "batch_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.optimizer is not None and self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if not 0.0 <= self.teacher_forcing_ratio <= 1.0:
            raise ValueError("teacher_forcing_ratio must be between 0 and 1")
        if self.head is not None and self.head not in HEADS:
            raise ValueError(f"head must be one of {', '.join(HEADS)}")
        if self.bias_init not in BIAS_INITS:
            raise ValueError(f"bias_init must be one of {', '.join(BIAS_INITS)}")
        if self.loss is not None and self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        if self.model == "token_lstm" and self.loss not in (None, "ce"):
            raise ValueError("the token model predicts one token a step: use loss ce")
        if self.positions is not None and self.positions not in POSITIONS:
            raise ValueError(f"positions must be one of {', '.join(POSITIONS)}")
        if self.model == "seq2seq" and self.positions == "last":
            raise ValueError("seq2seq takes its loss at every step of the window it decodes")
        if self.grad_clip < 0 or self.weight_decay < 0 or self.lr_patience < 0:
            raise ValueError("grad_clip, weight_decay and lr_patience cannot be negative")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError("lr_decay must be in (0, 1]")
        if self.head == "nade":
            if self.model == "token_lstm":
                raise ValueError("the NADE head is for roll models; tokens are one class a step")
            if self.loss not in (None, "bce"):
                raise ValueError("the NADE head is trained on its exact likelihood: use loss bce")
            if self.model == "seq2seq" and self.teacher_forcing_ratio < 1.0:
                raise ValueError("the NADE head trains with teacher forcing ratio 1.0")

    def resolved(self) -> "TrainConfig":
        """The config with every None filled in from the network's own defaults."""
        cls = network_class(self.model)
        defaults = {k: v for k, v in constructor_defaults(self.model).items() if k in SIZES}
        if self.model == "token_lstm":
            defaults["embedding_dim"] = constructor_defaults(self.model)["embedding_dim"]
        else:
            defaults["nade_hidden"] = constructor_defaults(self.model)["nade_hidden"]
        defaults |= cls.training_defaults
        if self.head == "nade":
            defaults["loss"] = "bce"
        if self.head is None and self.loss not in (None, "bce"):
            defaults["head"] = "independent"  # a loss chosen without a head: the seed's head
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})

    @property
    def seq2one(self) -> bool:
        return self.model != "seq2seq"

    def objective(self) -> Objective:
        c = self.resolved()
        return Objective(
            c.loss, c.threshold, c.focal_alpha, c.focal_gamma, token_targets=c.model == "token_lstm"
        )

    def network_spec(self, vocab_size: int | None = None) -> NetworkSpec:
        c = self.resolved()
        kwargs = {name: getattr(c, name) for name in SIZES}
        if c.model == "token_lstm":
            if not vocab_size:
                raise ValueError("the token model needs the vocabulary size")
            return NetworkSpec(
                c.model, dict(kwargs, vocab_size=vocab_size, embedding_dim=c.embedding_dim)
            )
        kwargs |= {"input_dim": c.input_dim, "head": c.head, "nade_hidden": c.nade_hidden}
        if c.model == "seq2seq":
            kwargs["threshold"] = c.threshold
        return NetworkSpec(c.model, kwargs)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Rebuild from a stored dict; unknown keys are an error, not silently dropped."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in values.items() if k not in RETIRED}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**({k: v for k, v in LEGACY.items() if k not in values} | values))


@dataclass
class TrainingData:
    """Encoded pieces: (T,) token indices for the token model, (T, D) 0/1 frames for the others."""

    train: Sequence[np.ndarray]
    valid: Sequence[np.ndarray]
    vocab_size: int | None = None


@dataclass
class LoopState:
    """The loop's bookkeeping, saved in every checkpoint so a resumed run continues it.

    Patience (for early stopping and for the learning-rate schedule) counts only from the first
    epoch that beats the marginal baseline, so a run cannot stop on its initial plateau.
    """

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_valid_loss: float = math.inf
    bad_epochs: int = 0
    lr_bad_epochs: int = 0
    learned_at: int | None = None
    stopped_early: bool = False


@dataclass
class TrainResult:
    history: list[dict]
    best_epoch: int
    best_valid_loss: float
    stopped_early: bool
    device: str
    last_checkpoint: Path
    best_checkpoint: Path
    resumed_from_epoch: int
    baseline_nll: float
    previous_step_nll: float

    @property
    def best_valid_nll(self) -> float:
        return self.history[self.best_epoch - 1]["valid_nll"] if self.best_epoch else math.inf

    @property
    def learned(self) -> bool:
        return has_learned(self.best_valid_nll, self.baseline_nll)


def has_learned(valid_nll: float, baseline_nll: float) -> bool:
    """Whether a validation NLL is clearly (LEARNED_SHARE) below the marginal baseline's."""
    return valid_nll <= LEARNED_SHARE * baseline_nll


NOT_LEARNED = (
    "this model has not learned from its input: its validation NLL is not at least 2% below the "
    "marginal baseline, so what it generates is noise with the corpus's note frequencies. Train "
    "longer, with a higher learning rate or a smaller network, or check the corpus."
)


def learning_line(
    valid_nll: float | None, baseline_nll: float | None, previous_step_nll: float | None = None
) -> str:
    """The best validation NLL beside what a model that ignores its input scores, and one that
    knows only the step before."""
    if valid_nll is None or baseline_nll is None:
        return "no validation NLL yet"
    line = (
        f"valid NLL {valid_nll:.4f} per step; marginal baseline {baseline_nll:.4f} "
        f"(a model that ignores its input): {_relative(valid_nll, baseline_nll)}"
    )
    if previous_step_nll is not None:
        line += (
            f"; previous-step baseline {previous_step_nll:.4f} (a model of the step before "
            f"alone): {_relative(valid_nll, previous_step_nll)}"
        )
    return line


def _relative(nll: float, baseline: float) -> str:
    share = 100 * (1 - nll / baseline)
    return f"{abs(share):.1f}% {'below' if share >= 0 else 'above'} it"


@dataclass
class LoadedModel:
    network: nn.Module
    spec: NetworkSpec
    config: TrainConfig
    metadata: dict


BatchCallback = Callable[[int, int, int], None]
EpochCallback = Callable[[dict], None]
# on_saved(epoch, last, best): called once an epoch's checkpoints are on the local disk, with
# best the path of a new best checkpoint or None, before on_epoch reports the epoch.
SavedCallback = Callable[[int, Path, Path | None], None]


def resolve_device(name: str = "auto") -> torch.device:
    """ "auto" picks CUDA when present; asking for CUDA without one is an error, not a fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available")
    return device


def autocast_for(device: torch.device, enabled: bool):
    """Mixed precision on CUDA only: bfloat16 where supported, else float16 (with a scaler)."""
    if device.type != "cuda" or not enabled:
        return nullcontext, None
    if torch.cuda.is_bf16_supported():
        return (lambda: torch.autocast("cuda", dtype=torch.bfloat16)), None
    scaler = torch.amp.GradScaler("cuda")
    return (lambda: torch.autocast("cuda", dtype=torch.float16)), scaler


def tensor(values: np.ndarray, tokens: bool, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.long if tokens else torch.float32, device=device)


def silent_frame(config: TrainConfig) -> np.ndarray | None:
    """What comes before a roll piece (silence), as the "zeros" seed of generation; tokens have
    no such step, so their first token is context only."""
    return None if config.model == "token_lstm" else np.zeros(config.input_dim, np.float32)


def silent_frames_before(config: TrainConfig) -> int:
    """How many silent frames training puts before a roll piece: one before every-step chunks,
    a window before the seed's last-step windows and seq2seq's. Generation from silence feeds
    as many, so that it starts from a state the model was trained in."""
    return 1 if config.seq2one and config.positions == "all" else config.window


def training_examples(config: TrainConfig, pieces: Sequence[np.ndarray]):
    """The examples of one epoch: every-step chunks, the seed's last-step windows, or seq2seq's
    (window, next window) pairs; roll pieces get silence in front so their openings are learned."""
    if config.seq2one and config.positions == "all":
        return ChunkSet(pieces, config.window, silent_frame(config))
    horizon = 1 if config.seq2one else config.window
    padded = with_silence(config, pieces, silent_frames_before(config))
    return WindowSet(padded, config.window, horizon, config.stride)


def with_silence(config: TrainConfig, pieces: Sequence[np.ndarray], steps: int) -> list:
    silence = silent_frame(config)
    if silence is None:
        return list(pieces)
    return [np.concatenate([np.zeros((steps, len(silence)), np.float32), p]) for p in pieces]


def greedy(logits: torch.Tensor) -> torch.Tensor:
    return (logits > 0).to(logits.dtype)


HEAD_ROWS = 4096  # hidden states a NADE head scores at once outside training: (rows, D, H) floats


def head_outputs(head: nn.Module, hidden: torch.Tensor, target: torch.Tensor):
    """Logits of the head on hidden states (..., H) for targets (..., D), and for a NADE head
    its greedy frames (else None): each key on when its probability, given the keys already
    decided below it, is above one half. Thresholding a NADE's conditionals given the TRUE lower
    keys would score it on information it does not have when it generates."""
    if not isinstance(head, NADEHead):
        return head(hidden, target), None
    rows = hidden.reshape(-1, hidden.shape[-1])
    if torch.is_grad_enabled():
        logits = head(hidden, target)
    else:
        wanted = target.reshape(len(rows), -1)
        parts = [
            head(rows[i : i + HEAD_ROWS], wanted[i : i + HEAD_ROWS])
            for i in range(0, len(rows), HEAD_ROWS)
        ]
        logits = torch.cat(parts).reshape(target.shape)
    with torch.no_grad():
        return logits, head.sample(rows, greedy).reshape(target.shape)


def score_batch(network: nn.Module, config: TrainConfig, x, y, teacher_forcing_ratio: float):
    """Logits aligned with y, and a NADE head's greedy frames (else None).

    Seq2one models score y (B, ...) from a window's last state, or y (B, T, ...) at every step;
    seq2seq scores every frame of its next window.
    """
    if config.model == "seq2seq":
        if not isinstance(network.classifier, NADEHead):
            return network(x, y, teacher_forcing_ratio), None
        hidden = network.features(x, y)
    else:
        hidden, _ = network.features(x)
        if y.dim() < x.dim():
            hidden = hidden[:, -1]
    return head_outputs(network.classifier, hidden, y)


def flat(logits: torch.Tensor, y: torch.Tensor, token_targets: bool, mask=None):
    """(N, C) logits and their N targets, leaving out masked (padding) steps."""
    if mask is not None:
        logits, y = logits[mask], y[mask]
    logits = logits.reshape(-1, logits.shape[-1])
    return logits, (y.reshape(-1) if token_targets else y.reshape(len(logits), -1))


def classes_of(config: TrainConfig, vocab_size: int | None) -> int:
    return vocab_size if config.model == "token_lstm" else config.input_dim


def train(
    config: TrainConfig,
    data: TrainingData,
    checkpoint_dir: Path,
    metadata: dict | None = None,
    on_batch: BatchCallback | None = None,
    on_epoch: EpochCallback | None = None,
    on_saved: SavedCallback | None = None,
) -> TrainResult:
    """Train (or resume) until config.epochs or early stopping; checkpoints go to checkpoint_dir.

    metadata (e.g. the vocabulary, the grid) is stored in every checkpoint so a checkpoint alone
    is enough to generate later. on_batch(epoch, batch, batches) and on_epoch(metrics) report
    progress; an exception raised from them stops the run, leaving the last checkpoint to resume.
    on_saved lets a caller copy each epoch's checkpoints elsewhere (shared storage) before the
    epoch is reported.
    Every epoch is validated on whole pieces (the piece protocol of evaluate_pieces).
    """
    config = config.resolved()
    device = resolve_device(config.device)
    objective = config.objective()
    tokens = config.model == "token_lstm"
    examples = training_examples(config, data.train)
    marginal = marginal_logits(objective, data.train, classes_of(config, data.vocab_size))
    baseline = baseline_nll(objective, marginal, data.valid, tokens)
    if config.head == "nade":
        baseline = min(baseline, chord_baseline_nll(marginal, data.train, data.valid))
    previous_step = previous_step_nll(objective, marginal, data.train, data.valid, tokens)
    torch.manual_seed(config.seed)
    spec = config.network_spec(data.vocab_size)
    network = spec.build().to(device)
    if config.bias_init == "marginal":
        with torch.no_grad():
            network.classifier.output_bias.copy_(marginal)
    optimizer = OPTIMIZERS[config.optimizer](
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    autocast, scaler = autocast_for(device, config.amp)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    state = LoopState()
    last_path = checkpoint_dir / LAST
    if last_path.exists():
        state = _restore(last_path, config, network, optimizer, scaler, device)
    resumed_from = state.epoch

    while state.epoch < config.epochs and not state.stopped_early:
        epoch = state.epoch
        torch.manual_seed(config.seed * 1_000_003 + epoch)
        order = epoch_order(len(examples), config.seed, epoch, config.max_windows)
        batches = math.ceil(len(order) / config.batch_size)
        network.train()
        totals = MetricTotals(objective)
        for b in range(batches):
            indices = order[b * config.batch_size : (b + 1) * config.batch_size]
            x, y, *mask = examples.batch(indices)
            x, y = tensor(x, tokens, device), tensor(y, tokens, device)
            mask = torch.as_tensor(mask[0], device=device) if mask else None
            with autocast():
                logits, predicted = score_batch(network, config, x, y, config.teacher_forcing_ratio)
                logits, target = flat(logits, y, tokens, mask)
                loss = objective(logits, target)
            optimizer.zero_grad(set_to_none=True)
            _step(loss, network, optimizer, scaler, config.grad_clip)
            if predicted is not None:
                predicted = flat(predicted, y, tokens, mask)[0]
            totals.update(logits, target, loss.item(), predicted)
            if on_batch:
                on_batch(epoch, b + 1, batches)
        valid = evaluate_pieces(network, config, data.valid, device, autocast=autocast)
        metrics = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "baseline_nll": baseline,
            "previous_step_nll": previous_step,
        }
        metrics.update({f"train_{k}": v for k, v in totals.summary().items()})
        metrics.update({f"valid_{k}": v for k, v in valid.items()})
        state.history.append(metrics)
        state.epoch = epoch + 1
        improved = _bookkeeping(state, config, optimizer, valid, baseline)
        payload = _checkpoint(spec, config, network, optimizer, scaler, state, metadata or {})
        _atomic_save(payload, last_path)
        if improved:
            _atomic_save(payload, checkpoint_dir / BEST)
        if on_saved:
            on_saved(state.epoch, last_path, checkpoint_dir / BEST if improved else None)
        if on_epoch:
            on_epoch(metrics)

    return TrainResult(
        history=state.history,
        best_epoch=state.best_epoch or 0,
        best_valid_loss=state.best_valid_loss,
        stopped_early=state.stopped_early,
        device=str(device),
        last_checkpoint=last_path,
        best_checkpoint=checkpoint_dir / BEST,
        resumed_from_epoch=resumed_from,
        baseline_nll=baseline,
        previous_step_nll=previous_step,
    )


def _step(loss, network, optimizer, scaler, grad_clip: float) -> None:
    """Backward and update, the gradient's norm clipped (after unscaling under fp16)."""
    if scaler is not None:
        scaler.scale(loss).backward()
        if grad_clip:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(network.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        return
    loss.backward()
    if grad_clip:
        nn.utils.clip_grad_norm_(network.parameters(), grad_clip)
    optimizer.step()


def _bookkeeping(state: LoopState, config, optimizer, valid: dict, baseline: float) -> bool:
    """Best epoch, patience and the learning-rate schedule after one epoch; True if improved."""
    if state.learned_at is None and has_learned(valid["nll"], baseline):
        state.learned_at = state.epoch
    if valid["loss"] < state.best_valid_loss:
        state.best_valid_loss, state.best_epoch = valid["loss"], state.epoch
        state.bad_epochs = state.lr_bad_epochs = 0
        return True
    if state.learned_at is None:
        return False
    state.bad_epochs += 1
    state.lr_bad_epochs += 1
    if config.lr_patience and state.lr_bad_epochs >= config.lr_patience:
        for group in optimizer.param_groups:
            group["lr"] *= config.lr_decay
        state.lr_bad_epochs = 0
    state.stopped_early = bool(config.patience) and state.bad_epochs >= config.patience
    return False


@torch.no_grad()
def evaluate_pieces(
    network: nn.Module,
    config: TrainConfig,
    pieces: Sequence[np.ndarray],
    device: torch.device,
    protocol: str = "piece",
    autocast=nullcontext,
) -> dict[str, float]:
    """Score every step of every piece exactly once, each predicted from the steps before it.

    "piece" is the protocol of the 2012 benchmark tables (NLL per time step over whole test
    pieces): a seq2one model reads each piece from its first step with its state carried to the
    end, a roll piece starting after one silent frame (a token piece's first token is context
    only). "window" predicts each step from the `window` steps before it alone, a roll piece
    getting `window` silent frames in front. Seq2seq has one protocol, the way it generates:
    block by block, each block of `window` frames decoded from the encoding of the block before,
    the first from silence.
    """
    config = config.resolved()
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    objective = config.objective()
    tokens = config.model == "token_lstm"
    network.eval()
    totals = MetricTotals(objective)
    pieces = [np.asarray(p) for p in pieces if len(p) > (1 if tokens else 0)]
    if not pieces:
        raise ValueError("no piece has a step to score")
    for x, y, mask in _scored_batches(config, pieces, protocol):
        x, y = tensor(x, tokens, device), tensor(y, tokens, device)
        mask = None if mask is None else torch.as_tensor(mask, device=device)
        with autocast():
            logits, predicted = score_batch(network, config, x, y, 1.0)
        logits, target = flat(logits, y, tokens, mask)
        if predicted is not None:
            predicted = flat(predicted, y, tokens, mask)[0]
        totals.update(logits, target, objective(logits, target).item(), predicted)
    return totals.summary()


def _scored_batches(config: TrainConfig, pieces: list[np.ndarray], protocol: str):
    """(x, y, mask) batches in which every step of every piece is a target once."""
    w = config.window
    if config.model == "seq2seq":
        blocks = []
        for piece in pieces:
            count = math.ceil(len(piece) / w)
            padded = np.zeros(((count + 1) * w, piece.shape[1]), np.float32)
            padded[w : w + len(piece)] = piece
            blocks.append((padded.reshape(count + 1, w, -1), len(piece)))
        for x_blocks, length in blocks:
            mask = (np.arange(len(x_blocks) * w - w) < length).reshape(-1, w)
            yield x_blocks[:-1], x_blocks[1:], mask
        return
    if protocol == "piece":
        chunks = ChunkSet(pieces, max(len(p) for p in pieces), silent_frame(config))
        for start in range(0, len(chunks), config.batch_size):
            yield chunks.batch(np.arange(start, min(start + config.batch_size, len(chunks))))
        return
    windows = WindowSet(with_silence(config, pieces, w), w, 1)
    for start in range(0, len(windows), config.batch_size):
        x, y = windows.batch(np.arange(start, min(start + config.batch_size, len(windows))))
        yield x, y, None


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> LoadedModel:
    """The network (in eval mode), its spec, training config and metadata from a checkpoint.

    Checkpoints travel through shared storage, so they are read as tensors and plain data only
    (weights_only): unpickling anything else could run code of the file's choosing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location=device, weights_only=True)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a checkpoint of this version")
    spec = NetworkSpec(payload["spec"]["kind"], payload["spec"]["kwargs"])
    network = spec.build().to(device)
    network.load_state_dict(payload["network"])
    network.eval()
    return LoadedModel(network, spec, TrainConfig.from_dict(payload["config"]), payload["metadata"])


def _checkpoint(spec, config, network, optimizer, scaler, state, metadata) -> dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "spec": {"kind": spec.kind, "kwargs": spec.kwargs},
        "config": asdict(config),
        "network": network.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "loop": asdict(state),
        "metadata": metadata,
    }


def _restore(path, config, network, optimizer, scaler, device) -> LoopState:
    payload = torch.load(path, map_location=device, weights_only=True)
    stored = TrainConfig.from_dict(payload["config"])
    if replace(stored, epochs=config.epochs, device=config.device) != config:
        raise ValueError(
            f"{path} was written with different settings; resume with the same config "
            "(only epochs and device may change) or use a new checkpoint folder"
        )
    network.load_state_dict(payload["network"])
    optimizer.load_state_dict(payload["optimizer"])
    if scaler is not None and payload["scaler"] is not None:
        scaler.load_state_dict(payload["scaler"])
    return LoopState(**payload["loop"])


def _atomic_save(payload: dict, path: Path) -> None:
    """Write then rename, so a crash mid-write never leaves a truncated checkpoint behind."""
    partial = path.with_suffix(".partial")
    torch.save(payload, partial)
    partial.replace(path)
