"""What a network's validation NLL is held against: models too simple to be music, fitted on the
training split (pure numpy and torch, no Django).

- The marginal model ignores its input: each step is the training split's frequencies. A run not
  clearly below it has learned nothing (training.has_learned).
- The chord model, for a NADE head, knows which keys sound together but not what came before.
- The previous-step model knows the step before and little of it: which token follows which (a
  bigram mixed with the marginal model), or, for a roll, each key given only its own state a
  step before (held, repeated or silent), blind to the rest of the frame. A token model near it
  has learned little beyond which token follows which; a roll model well below it has learned
  which keys move together.
"""

from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

from generation.metrics import Objective

# How much weight goes to the training split's chords or bigrams against the marginal model;
# the best of these on the validation split is the baseline, so it is never a straw man.
MIXTURE_WEIGHTS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def marginal_logits(objective: Objective, pieces: Sequence[np.ndarray], classes: int):
    """The output a model that ignores its input would give: log class frequencies (one class a
    step) or per-feature log-odds, from every step of the training split (smoothed by half a count
    so a feature never seen stays finite)."""
    steps = np.concatenate([np.asarray(p) for p in pieces])
    if objective.categorical:
        if objective.token_targets:
            labels = steps.astype(np.int64)
        else:
            labels = objective.classes(torch.as_tensor(steps, dtype=torch.float32)).numpy()
        counts = np.bincount(labels, minlength=classes) + 0.5
        return torch.as_tensor(np.log(counts / counts.sum()), dtype=torch.float32)
    p = (steps.reshape(len(steps), -1).sum(axis=0) + 0.5) / (len(steps) + 1.0)
    return torch.as_tensor(np.log(p / (1 - p)), dtype=torch.float32)


def baseline_nll(objective: Objective, marginal: torch.Tensor, pieces, tokens: bool) -> float:
    """NLL per step of the marginal model on the steps the piece protocol scores: every frame of
    a roll piece, every token but each piece's first."""
    targets = [np.asarray(p)[1:] if tokens else np.asarray(p) for p in pieces]
    steps = torch.as_tensor(np.concatenate(targets))
    if not len(steps):
        raise ValueError("the validation split has no step to score")
    logits = marginal.expand(len(steps), -1)
    return objective.nll_sum(logits, steps if tokens else steps.float()) / len(steps)


def chord_baseline_nll(marginal: torch.Tensor, train_pieces, valid_pieces) -> float:
    """NLL per frame of the best model that ignores its input but knows which keys sound
    together: the training split's frames, each as often as it sounded there, mixed with the
    marginal model for frames it never played, at the weight that suits the validation split
    best. A NADE head scores each key given the keys below it, so it learns chords without
    listening to the music before them; held against the marginal baseline alone, a NADE model
    fed shuffled frames passed as learned."""
    train = np.concatenate([np.asarray(p) for p in train_pieces]) > 0.5
    valid = np.concatenate([np.asarray(p) for p in valid_pieces]) > 0.5
    counts = Counter(row.tobytes() for row in np.packbits(train, axis=1))
    seen = np.array([counts[row.tobytes()] for row in np.packbits(valid, axis=1)]) / len(train)
    logits = marginal.double().numpy()
    # log p(frame) under independent keys: log sigmoid(z) where a key sounds, log sigmoid(-z) not
    independent = -np.logaddexp(0.0, np.where(valid, -logits, logits)).sum(axis=1)
    with np.errstate(divide="ignore"):
        log_seen = np.log(seen)
    mixtures = [
        np.logaddexp(np.log(weight) + log_seen, np.log1p(-weight) + independent)
        for weight in MIXTURE_WEIGHTS
    ]
    return float(min(-mixture.mean() for mixture in mixtures))


def previous_step_nll(
    objective: Objective,
    marginal: torch.Tensor,
    train_pieces: Sequence[np.ndarray],
    valid_pieces: Sequence[np.ndarray],
    tokens: bool,
) -> float:
    """NLL per step of the previous-step model on the steps the piece protocol scores (every
    token but each piece's first; every frame of a roll piece, the first after silence)."""
    if objective.categorical:
        return _bigram_nll(
            marginal,
            _label_pairs(objective, train_pieces, tokens),
            _label_pairs(objective, valid_pieces, tokens),
        )
    return _key_markov_nll(_frame_pairs(train_pieces), _frame_pairs(valid_pieces))


def _label_pairs(objective: Objective, pieces, tokens: bool) -> np.ndarray:
    """(previous, next) class pairs, a roll piece's first frame following silence (class 0)."""
    pairs = [np.zeros((0, 2), np.int64)]
    for piece in (p for p in pieces if len(p)):
        if tokens:
            labels = np.asarray(piece, dtype=np.int64)
        else:
            frames = torch.as_tensor(np.asarray(piece), dtype=torch.float32)
            labels = np.concatenate([[0], objective.classes(frames).numpy()])
        pairs.append(np.stack([labels[:-1], labels[1:]], axis=1))
    return np.concatenate(pairs)


def _bigram_nll(marginal: torch.Tensor, train: np.ndarray, valid: np.ndarray) -> float:
    if not len(valid):
        raise ValueError("the validation split has no step to score")
    unigram = torch.softmax(marginal.double(), dim=-1).numpy()
    classes = len(unigram)
    counts = np.zeros((classes, classes))
    np.add.at(counts, (train[:, 0], train[:, 1]), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    bigram = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    previous, following = valid[:, 0], valid[:, 1]
    known = totals[previous, 0] > 0
    return float(
        min(
            -np.log(
                np.where(known, weight * bigram[previous, following], 0.0)
                + np.where(known, 1 - weight, 1.0) * unigram[following]
            ).mean()
            for weight in MIXTURE_WEIGHTS
        )
    )


def _frame_pairs(pieces) -> tuple[np.ndarray, np.ndarray]:
    """(previous, next) frames as booleans, a piece's first frame following silence."""
    frames = [np.asarray(p) > 0.5 for p in pieces if len(p)]
    previous = [np.vstack([np.zeros((1, f.shape[1]), bool), f[:-1]]) for f in frames]
    return np.concatenate(previous), np.concatenate(frames)


def _key_markov_nll(train, valid) -> float:
    """Each feature on its own, given its own state at the step before (half-count smoothing)."""
    (before, after), (valid_before, valid_after) = train, valid
    if not len(valid_after):
        raise ValueError("the validation split has no step to score")
    on_after_on = ((before & after).sum(axis=0) + 0.5) / (before.sum(axis=0) + 1.0)
    on_after_off = ((~before & after).sum(axis=0) + 0.5) / ((~before).sum(axis=0) + 1.0)
    p = np.where(valid_before, on_after_on, on_after_off)
    return float(-np.where(valid_after, np.log(p), np.log1p(-p)).sum(axis=1).mean())
