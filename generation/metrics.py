"""Losses and the metrics reported per epoch (no Django here).

The seed reported one "accuracy": for its polyphonic models, the share of all 176 roll cells
predicted right, which is about 0.98 for a model that predicts silence everywhere. It is kept for
comparison with the original report, next to the metrics that mean something for sparse rolls:
frame-level precision, recall and F1, the frame accuracy of Bay et al. (TP / (TP + FP + FN),
counts summed over all frames, as used by Boulanger-Lewandowski et al. 2012), and the negative
log-likelihood per time step in nats (summed over the features of a frame).
"""

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

LOSSES = ("ce", "bce", "focal")


def frames_from_classes(index: torch.Tensor, classes: int) -> torch.Tensor:
    """Roll frames from the classes of a roll model trained on each frame's argmax ("ce").

    That target gives a silent frame class 0, the feature of A0's onset. The lowest feature of a
    frame is hardly ever an A0 struck, so class 0 stands for silence: read as A0, it put stray
    low notes into every rest of a generated piece and counted as a wrong note in the metrics.
    """
    frames = F.one_hot(index, classes).float()
    frames[index == 0] = 0.0
    return frames


@dataclass(frozen=True)
class Objective:
    """How a network's logits are scored.

    "ce": one class per step (the token model; the roll model's original loss, which takes the
    argmax of the target frame, i.e. one note at a time). "bce" and "focal": every feature is an
    independent Bernoulli (polyphonic rolls); focal weights are alpha/(1-alpha) and (1-p_t)^gamma
    as in the seed. Losses are means over time steps of per-step sums, except "bce", which keeps
    torch's mean over cells like the seed's BCEWithLogitsLoss.
    """

    loss: str
    threshold: float = 0.5
    focal_alpha: float = 0.5
    focal_gamma: float = 2.0
    token_targets: bool = False

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        if self.token_targets and self.loss != "ce":
            raise ValueError("the token model only supports the 'ce' loss")

    @property
    def categorical(self) -> bool:
        return self.loss == "ce"

    def classes(self, target: torch.Tensor) -> torch.Tensor:
        return target.long() if self.token_targets else target.argmax(dim=-1)

    def __call__(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """logits (N, C); target (N,) token indices or (N, C) 0/1 frames."""
        logits = logits.float()
        if self.loss == "ce":
            return F.cross_entropy(logits, self.classes(target))
        target = target.float()
        if self.loss == "bce":
            return F.binary_cross_entropy_with_logits(logits, target)
        p = torch.sigmoid(logits).detach()
        p_t = p * target + (1 - p) * (1 - target)
        weight = self.focal_alpha * target + (1 - self.focal_alpha) * (1 - target)
        weight = weight * (1 - p_t).pow(self.focal_gamma)
        summed = F.binary_cross_entropy_with_logits(logits, target, weight, reduction="sum")
        return summed / len(logits)

    def nll_sum(self, logits: torch.Tensor, target: torch.Tensor) -> float:
        """Summed NLL in nats over the N steps: categorical, or Bernoulli summed over features."""
        logits = logits.float()
        if self.categorical:
            return F.cross_entropy(logits, self.classes(target), reduction="sum").item()
        return F.binary_cross_entropy_with_logits(logits, target.float(), reduction="sum").item()

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """A roll model's 0/1 frames (N, C): its class's one-hot for "ce" (class 0 as silence),
        else the features whose probability is above the threshold."""
        if self.categorical:
            return frames_from_classes(logits.argmax(dim=-1), logits.shape[-1])
        return (torch.sigmoid(logits.float()) > self.threshold).float()


@dataclass
class MetricTotals:
    """Counts summed over batches, so epoch metrics weigh every step equally."""

    objective: Objective
    steps: int = 0
    loss_sum: float = 0.0
    nll: float = 0.0
    correct: float = 0.0
    cells: int = 0
    counts: dict = field(default_factory=lambda: {"tp": 0.0, "fp": 0.0, "fn": 0.0})

    @torch.no_grad()
    def update(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        loss: float,
        predicted: torch.Tensor | None = None,
    ) -> None:
        """logits (N, C), target as for Objective; loss is the batch's mean loss. predicted: the
        model's own 0/1 frames where they are not its thresholded logits (a NADE head's logits
        are conditioned on the true lower keys)."""
        logits = logits.detach().reshape(-1, logits.shape[-1]).float()
        n = len(logits)
        target = target.reshape(n) if self.objective.token_targets else target.reshape(n, -1)
        self.steps += n
        self.loss_sum += loss * n
        self.nll += self.objective.nll_sum(logits, target)
        if self.objective.categorical:
            self.correct += (logits.argmax(-1) == self.objective.classes(target)).sum().item()
            self.cells += n
            predicted = None if self.objective.token_targets else self.objective.predict(logits)
        else:
            truth = target.float()
            if predicted is None:
                predicted = self.objective.predict(logits)
            predicted = predicted.reshape(n, -1).float()
            self.correct += (predicted == truth).sum().item()
            self.cells += truth.numel()
        if predicted is not None:
            truth = target.float()
            self.counts["tp"] += (predicted * truth).sum().item()
            self.counts["fp"] += (predicted * (1 - truth)).sum().item()
            self.counts["fn"] += ((1 - predicted) * truth).sum().item()

    def summary(self) -> dict[str, float]:
        """steps, loss, accuracy (the seed's), NLL per step; for rolls precision, recall, F1,
        frame accuracy."""
        if not self.steps:
            raise ValueError("no steps were scored")
        result = {
            "steps": self.steps,
            "loss": self.loss_sum / self.steps,
            "accuracy": self.correct / self.cells,
            "nll": self.nll / self.steps,
        }
        if not self.objective.token_targets:
            result.update(frame_scores(**self.counts))
        return result


def frame_scores(tp: float, fp: float, fn: float) -> dict[str, float]:
    """Precision, recall, F1 and Bay et al.'s frame accuracy from summed counts (0 when empty)."""

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
        "frame_accuracy": ratio(tp, tp + fp + fn),
    }
