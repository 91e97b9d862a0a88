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

from generation.datasets import WindowSet, epoch_order, evenly_spaced
from generation.metrics import MetricTotals, Objective
from generation.networks import MODEL_KINDS, ROLL_INPUT_DIM, NetworkSpec

CHECKPOINT_FORMAT = 1
LAST, BEST = "last.pt", "best.pt"

# The seed's choices where the three models differ; None in TrainConfig means "take these".
MODEL_DEFAULTS = {
    "token_lstm": {
        "num_layers": 3,
        "dropout": 0.3,
        "dense_dropout": 0.3,
        "loss": "ce",
        "optimizer": "rmsprop",
    },
    "roll_lstm": {
        "num_layers": 2,
        "dropout": 0.2,
        "dense_dropout": 0.5,
        "loss": "ce",
        "optimizer": "adam",
    },
    "seq2seq": {
        "num_layers": 2,
        "dropout": 0.2,
        "dense_dropout": 0.5,
        "loss": "focal",
        "optimizer": "adam",
    },
}
OPTIMIZERS = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run's result; stored with every checkpoint."""

    model: str = "seq2seq"
    hidden_size: int = 512
    num_layers: int | None = None
    dropout: float | None = None
    dense_size: int = 256
    dense_dropout: float | None = None
    embedding_dim: int = 0
    input_dim: int = ROLL_INPUT_DIM
    loss: str | None = None
    threshold: float = 0.5
    focal_alpha: float = 0.5
    focal_gamma: float = 2.0
    teacher_forcing_ratio: float = 0.5
    window: int = 100
    stride: int = 1
    max_windows: int | None = None
    max_valid_windows: int | None = None
    optimizer: str | None = None
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 100
    patience: int | None = 10
    seed: int = 0
    device: str = "auto"
    amp: bool = True

    def __post_init__(self):
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {', '.join(MODEL_KINDS)}, not {self.model!r}")
        for name in ("hidden_size", "dense_size", "input_dim", "window", "batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.optimizer is not None and self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if not 0.0 <= self.teacher_forcing_ratio <= 1.0:
            raise ValueError("teacher_forcing_ratio must be between 0 and 1")

    def resolved(self) -> "TrainConfig":
        """The config with the model's seed defaults filled in for every None."""
        defaults = MODEL_DEFAULTS[self.model]
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})

    def objective(self) -> Objective:
        c = self.resolved()
        return Objective(
            c.loss, c.threshold, c.focal_alpha, c.focal_gamma, token_targets=c.model == "token_lstm"
        )

    def network_spec(self, vocab_size: int | None = None) -> NetworkSpec:
        c = self.resolved()
        common = dict(
            hidden_size=c.hidden_size,
            num_layers=c.num_layers,
            dropout=c.dropout,
            dense_size=c.dense_size,
            dense_dropout=c.dense_dropout,
        )
        if c.model == "token_lstm":
            if not vocab_size:
                raise ValueError("the token model needs the vocabulary size")
            kwargs = dict(common, vocab_size=vocab_size, embedding_dim=c.embedding_dim)
            return NetworkSpec(c.model, kwargs)
        if c.model == "seq2seq":
            return NetworkSpec(c.model, dict(common, input_dim=c.input_dim, threshold=c.threshold))
        return NetworkSpec(c.model, dict(common, input_dim=c.input_dim))

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Rebuild from a stored dict; unknown keys are an error, not silently dropped."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**values)


@dataclass
class TrainingData:
    """Encoded pieces: (T,) token indices for the token model, (T, D) 0/1 frames for the others."""

    train: Sequence[np.ndarray]
    valid: Sequence[np.ndarray]
    vocab_size: int | None = None


@dataclass
class LoopState:
    """The loop's bookkeeping, saved in every checkpoint so a resumed run continues it."""

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    best_valid_loss: float = math.inf
    bad_epochs: int = 0
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


@dataclass
class LoadedModel:
    network: nn.Module
    spec: NetworkSpec
    config: TrainConfig
    metadata: dict


BatchCallback = Callable[[int, int, int], None]
EpochCallback = Callable[[dict], None]


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


def to_tensors(kind: str, x: np.ndarray, y: np.ndarray, device: torch.device):
    if kind == "token_lstm":
        return (
            torch.as_tensor(x, dtype=torch.long, device=device),
            torch.as_tensor(y, dtype=torch.long, device=device),
        )
    return (
        torch.as_tensor(x, dtype=torch.float32, device=device),
        torch.as_tensor(y, dtype=torch.float32, device=device),
    )


def predict_targets(network: nn.Module, kind: str, x, y, teacher_forcing_ratio: float):
    """Logits aligned with y: the last position for seq2one models, every step for seq2seq."""
    if kind == "seq2seq":
        return network(x, y, teacher_forcing_ratio)
    logits, _ = network(x)
    return logits[:, -1]


def flat(logits: torch.Tensor, y: torch.Tensor, token_targets: bool):
    logits = logits.reshape(-1, logits.shape[-1])
    return logits, (y.reshape(-1) if token_targets else y.reshape(len(logits), -1))


def train(
    config: TrainConfig,
    data: TrainingData,
    checkpoint_dir: Path,
    metadata: dict | None = None,
    on_batch: BatchCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train (or resume) until config.epochs or early stopping; checkpoints go to checkpoint_dir.

    metadata (e.g. the vocabulary, the grid) is stored in every checkpoint so a checkpoint alone
    is enough to generate later. on_batch(epoch, batch, batches) and on_epoch(metrics) report
    progress; an exception raised from them stops the run, leaving the last checkpoint to resume.
    """
    config = config.resolved()
    device = resolve_device(config.device)
    objective = config.objective()
    horizon = config.window if config.model == "seq2seq" else 1
    train_set = WindowSet(data.train, config.window, horizon, config.stride)
    valid_set = WindowSet(data.valid, config.window, horizon, config.stride)
    torch.manual_seed(config.seed)
    spec = config.network_spec(data.vocab_size)
    network = spec.build().to(device)
    optimizer = OPTIMIZERS[config.optimizer](network.parameters(), lr=config.learning_rate)
    autocast, scaler = autocast_for(device, config.amp)
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    state = LoopState()
    last_path = checkpoint_dir / LAST
    if last_path.exists():
        state = _restore(last_path, config, network, optimizer, scaler, device)
    resumed_from = state.epoch
    valid_indices = evenly_spaced(len(valid_set), config.max_valid_windows)

    while state.epoch < config.epochs and not state.stopped_early:
        epoch = state.epoch
        torch.manual_seed(config.seed * 1_000_003 + epoch)
        order = epoch_order(len(train_set), config.seed, epoch, config.max_windows)
        batches = math.ceil(len(order) / config.batch_size)
        network.train()
        totals = MetricTotals(objective)
        for b in range(batches):
            indices = order[b * config.batch_size : (b + 1) * config.batch_size]
            x, y = to_tensors(config.model, *train_set.batch(indices), device)
            with autocast():
                logits = predict_targets(network, config.model, x, y, config.teacher_forcing_ratio)
                logits, target = flat(logits, y, objective.token_targets)
                loss = objective(logits, target)
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            totals.update(logits, target, loss.item())
            if on_batch:
                on_batch(epoch, b + 1, batches)
        valid = evaluate_windows(
            network, config, valid_set, valid_indices, device, autocast=autocast
        )
        metrics = {"epoch": epoch + 1}
        metrics.update({f"train_{k}": v for k, v in totals.summary().items()})
        metrics.update({f"valid_{k}": v for k, v in valid.items()})
        state.history.append(metrics)
        state.epoch = epoch + 1
        improved = valid["loss"] < state.best_valid_loss
        if improved:
            state.best_valid_loss, state.best_epoch, state.bad_epochs = valid["loss"], epoch + 1, 0
        else:
            state.bad_epochs += 1
            state.stopped_early = bool(config.patience) and state.bad_epochs >= config.patience
        payload = _checkpoint(spec, config, network, optimizer, scaler, state, metadata or {})
        _atomic_save(payload, last_path)
        if improved:
            _atomic_save(payload, checkpoint_dir / BEST)
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
    )


@torch.no_grad()
def evaluate_windows(
    network: nn.Module,
    config: TrainConfig,
    windows: WindowSet,
    indices: np.ndarray,
    device: torch.device,
    autocast=nullcontext,
) -> dict[str, float]:
    """Metrics on windows in eval mode; seq2seq decodes teacher-forced, as likelihood needs."""
    objective = config.objective()
    network.eval()
    totals = MetricTotals(objective)
    for start in range(0, len(indices), config.batch_size):
        chunk = indices[start : start + config.batch_size]
        x, y = to_tensors(config.model, *windows.batch(chunk), device)
        with autocast():
            logits = predict_targets(network, config.model, x, y, 1.0)
            logits, target = flat(logits, y, objective.token_targets)
            loss = objective(logits, target)
        totals.update(logits, target, loss.item())
    return totals.summary()


@torch.no_grad()
def evaluate_pieces(
    network: nn.Module,
    config: TrainConfig,
    pieces: Sequence[np.ndarray],
    device: torch.device,
) -> dict[str, float]:
    """Score every frame of every piece exactly once, each predicted from the frames before it.

    This is the protocol of the 2012 benchmark tables (NLL per time step over whole test pieces).
    Each piece gets `window` silent frames in front, as the "zeros" seed of generation does; the
    seq2one model predicts frame t from the window ending at t-1, the seq2seq model decodes the
    piece block by block, each block from the encoding of the block before it.
    """
    config = config.resolved()
    if config.model == "token_lstm":
        raise ValueError("evaluate_pieces scores piano-roll models only")
    objective = config.objective()
    network.eval()
    totals = MetricTotals(objective)
    w = config.window
    for piece in pieces:
        piece = np.asarray(piece, dtype=np.float32)
        if config.model == "roll_lstm":
            padded = np.concatenate([np.zeros((w, piece.shape[1]), np.float32), piece])
            windows = WindowSet([padded], w, 1)
            for start in range(0, len(windows), config.batch_size):
                chunk = np.arange(start, min(start + config.batch_size, len(windows)))
                x, y = to_tensors(config.model, *windows.batch(chunk), device)
                logits = predict_targets(network, config.model, x, y, 1.0)
                totals.update(logits, y, objective(logits, y).item())
            continue
        blocks = math.ceil(len(piece) / w)
        padded = np.zeros(((blocks + 1) * w, piece.shape[1]), np.float32)
        padded[w : w + len(piece)] = piece
        frames = padded.reshape(blocks + 1, w, -1)
        x, y = to_tensors(config.model, frames[:-1], frames[1:], device)
        logits = predict_targets(network, config.model, x, y, 1.0).reshape(-1, piece.shape[1])
        logits, target = logits[: len(piece)], y.reshape(-1, piece.shape[1])[: len(piece)]
        totals.update(logits, target, objective(logits, target).item())
    return totals.summary()


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> LoadedModel:
    """The network (in eval mode), its spec, training config and metadata from a checkpoint."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location=device, weights_only=False)
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
    payload = torch.load(path, map_location=device, weights_only=False)
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
