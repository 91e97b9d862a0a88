"""Training windows cut from encoded pieces, gathered a whole batch at a time (no Django here).

All pieces of a split are concatenated into one array and a window is just a start offset into
it, so a batch is a single fancy-indexing gather instead of one Python call per example. Windows
never cross a piece boundary.
"""

from collections.abc import Sequence

import numpy as np


class WindowSet:
    """Windows of `window` steps and the `horizon` steps that follow them.

    horizon=1 gives the seq2one pairs of the seed's first two models (target: the next step);
    horizon=window gives the seq2seq pairs of the third (target: the next window).
    """

    def __init__(
        self, sequences: Sequence[np.ndarray], window: int, horizon: int = 1, stride: int = 1
    ):
        if window < 1 or horizon < 1 or stride < 1:
            raise ValueError("window, horizon and stride must be positive")
        self.window, self.horizon = window, horizon
        span = window + horizon
        usable = [np.asarray(s) for s in sequences if len(s) >= span]
        if not usable:
            longest = max((len(s) for s in sequences), default=0)
            raise ValueError(
                f"no piece is long enough for a window of {window} + {horizon} steps "
                f"(longest has {longest}); use a shorter window"
            )
        self.data = np.concatenate(usable)
        offsets = np.cumsum([0] + [len(s) for s in usable[:-1]])
        counts = [len(s) - span + 1 for s in usable]
        self.starts = np.concatenate(
            [o + np.arange(0, c, stride) for o, c in zip(offsets, counts, strict=True)]
        )
        self.pieces_used = len(usable)
        self.pieces_skipped = len(sequences) - len(usable)

    def __len__(self) -> int:
        return len(self.starts)

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, y): x (B, window, ...) and y (B, ...) for horizon 1, else (B, horizon, ...)."""
        starts = self.starts[indices]
        x = self.data[starts[:, None] + np.arange(self.window)]
        if self.horizon == 1:
            return x, self.data[starts + self.window]
        return x, self.data[starts[:, None] + self.window + np.arange(self.horizon)]


def epoch_order(n: int, seed: int, epoch: int, limit: int | None) -> np.ndarray:
    """Shuffled window indices for one epoch, drawn from (seed, epoch) alone so a resumed run
    visits exactly the windows an uninterrupted one would have."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return order[:limit] if limit else order


def evenly_spaced(n: int, limit: int | None) -> np.ndarray:
    """A fixed subset for validation, spread over the whole split rather than its first pieces."""
    if not limit or limit >= n:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).round().astype(int)


class ChunkSet:
    """Every step of every piece as a target exactly once, for losses taken at every position.

    A piece's inputs are the piece shifted one step late, with `start` (a silent frame) in front
    when given, so its first step is predicted too; without `start` (tokens) the first step is
    context only. Inputs and targets are cut into chunks of at most `window` steps, padded to
    `window`, with a mask that is False on the padding. Each chunk starts from a fresh state.
    """

    def __init__(self, sequences: Sequence[np.ndarray], window: int, start=None):
        if window < 1:
            raise ValueError("window must be positive")
        inputs, targets = [], []
        for piece in sequences:
            piece = np.asarray(piece)
            if start is not None:
                head = np.broadcast_to(np.asarray(start, dtype=piece.dtype), piece[:1].shape)
                piece_inputs, piece_targets = np.concatenate([head, piece[:-1]]), piece
            else:
                piece_inputs, piece_targets = piece[:-1], piece[1:]
            for first in range(0, len(piece_targets), window):
                inputs.append(piece_inputs[first : first + window])
                targets.append(piece_targets[first : first + window])
        if not targets:
            raise ValueError("no piece has a step to predict")
        self.window = window
        self.lengths = np.array([len(t) for t in targets])
        self.inputs = _padded(inputs, window)
        self.targets = _padded(targets, window)

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def steps(self) -> int:
        return int(self.lengths.sum())

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, mask): x and y (B, T, ...) cut to the batch's longest chunk, mask (B, T)."""
        lengths = self.lengths[indices]
        longest = int(lengths.max())
        mask = np.arange(longest) < lengths[:, None]
        return self.inputs[indices, :longest], self.targets[indices, :longest], mask


def _padded(chunks: list[np.ndarray], window: int) -> np.ndarray:
    out = np.zeros((len(chunks), window, *chunks[0].shape[1:]), dtype=chunks[0].dtype)
    for i, chunk in enumerate(chunks):
        out[i, : len(chunk)] = chunk
    return out
