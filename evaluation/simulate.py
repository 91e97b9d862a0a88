"""Synthetic studies with known truth, for checking the statistics and planning a study.

Participants follow the equal-variance Gaussian signal-detection model: an excerpt gives evidence
x ~ N(mu + item effect, 1) that it is machine-made, with mu = 0 for human excerpts and mu = d' for a
model's; the participant answers "a computer" when x exceeds their threshold k. A participant's d'
for each model and their threshold are drawn around the true values, so the population d' and rate
judged human are known and an analysis can be checked against them. (For a model with sensitivity
d', the criterion of signal-detection theory is c = k - d'/2.) Excerpts that vary (item_sd > 0)
spread the evidence over the population of excerpts, so the participant-average d' and c that a
per-participant analysis estimates are those values divided by sqrt(1 + item_sd^2) (true_d_prime).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from evaluation import pairs, tidy


@dataclass(frozen=True)
class StudyDesign:
    """True parameters of a synthetic study."""

    model_d_primes: dict[str, float] = field(default_factory=lambda: {"seq2seq": 1.0})
    participants: int = 100
    trials_per_source: int = 10
    # Human excerpts each participant hears (default: trials_per_source). A 20-trial study with
    # two models plays 10 human excerpts and 5 of each model.
    human_trials: int | None = None
    items_per_source: int = 20
    threshold: float = 0.5  # mean k: evidence above it is answered "a computer"
    participant_d_sd: float = 0.0  # spread of a participant's d' around the model's
    threshold_sd: float = 0.0
    item_sd: float = 0.0  # spread of an excerpt's evidence mean
    non_musician_share: float = 0.7
    excluded_share: float = 0.0

    def true_rate_human(self, d_prime: float) -> float:
        """Population rate judged human of a source of true sensitivity ``d_prime`` (0 = human)."""
        d_sd = self.participant_d_sd if d_prime != 0 else 0.0
        spread = np.sqrt(1 + self.threshold_sd**2 + self.item_sd**2 + d_sd**2)
        return float(stats.norm.cdf((self.threshold - d_prime) / spread))

    def true_d_prime(self, d_prime: float) -> float:
        """Population mean of participants' d' for a model of sensitivity ``d_prime``.

        A participant's hit and false-alarm rates over all excerpts a source could have are
        Phi((d_p - k_p) / s) and Phi(-k_p / s) with s = sqrt(1 + item_sd^2), so their d' is d_p / s.
        """
        return d_prime / float(np.sqrt(1 + self.item_sd**2))

    def true_criterion(self, d_prime: float) -> float:
        """Population mean of participants' c for that model: (k - d'/2) / s, as above."""
        return (self.threshold - d_prime / 2) / float(np.sqrt(1 + self.item_sd**2))


def simulate_study(
    design: StudyDesign, seed: int = 0, study: str = "simulated"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A tidy answer table and a funnel drawn from ``design`` (deterministic for a seed)."""
    human_trials = design.trials_per_source if design.human_trials is None else design.human_trials
    if max(design.trials_per_source, human_trials) > design.items_per_source:
        raise ValueError("trials per source cannot exceed items_per_source")
    rng = np.random.default_rng(seed)
    sources = [tidy.HUMAN, *design.model_d_primes]
    n_p, n_i = design.participants, design.items_per_source
    trials = np.array([human_trials] + [design.trials_per_source] * len(design.model_d_primes))
    item_effect = rng.normal(0, design.item_sd, size=(len(sources), n_i))
    threshold = design.threshold + rng.normal(0, design.threshold_sd, size=n_p)
    # Each participant hears distinct excerpts of each source, chosen at random.
    ranks = np.argsort(rng.random((n_p, len(sources), n_i)), axis=2)
    heard = np.broadcast_to(np.arange(n_i)[None, None, :] < trials[None, :, None], ranks.shape)
    participant, source_index, _ = np.nonzero(heard)
    item_index = ranks[heard]
    d_true = np.array([0.0, *design.model_d_primes.values()])
    d_participant = d_true[None, :] + rng.normal(
        0, design.participant_d_sd, size=(n_p, len(sources))
    )
    d_participant[:, 0] = 0.0
    mean = d_participant[participant, source_index] + item_effect[source_index, item_index]
    judged_human = rng.normal(mean, 1.0) <= threshold[participant]
    kind = np.where(source_index == 0, tidy.HUMAN, tidy.MACHINE)
    non_musician = rng.random(n_p) < design.non_musician_share
    excluded = rng.random(n_p) < design.excluded_share
    names = np.array(sources, dtype=object)
    frame = pd.DataFrame(
        {
            tidy.STUDY: study,
            tidy.PARTICIPANT: np.char.add("p", participant.astype(str)),
            tidy.ITEM: np.char.add(
                np.char.add(names[source_index].astype(str), "-"), item_index.astype(str)
            ),
            tidy.SOURCE_KIND: kind,
            tidy.SOURCE: names[source_index],
            tidy.BATCH: np.where(source_index == 0, "", "1"),
            tidy.JUDGED_HUMAN: judged_human,
            tidy.CORRECT: judged_human == (source_index == 0),
            tidy.CONFIDENCE: rng.integers(1, 6, size=participant.size),
            tidy.MUSICALITY: np.clip(
                np.round(3 + judged_human + rng.normal(0, 1, participant.size)), 1, 5
            ),
            tidy.RESPONSE_MS: rng.integers(500, 8000, size=participant.size),
            tidy.PLAYS: rng.integers(1, 3, size=participant.size),
            tidy.MUSICAL_TRAINING_YEARS: np.where(non_musician, 0.0, 6.0)[participant],
            tidy.GOLD_MSI_TRAINING: np.where(non_musician, 10.0, 30.0)[participant],
            tidy.NON_MUSICIAN: non_musician[participant],
            tidy.ATTENTION_PASSED: ~excluded[participant],
            tidy.HEADPHONE_PASSED: True,
            tidy.COMPLETED: True,
            tidy.EXCLUDED: excluded[participant],
            tidy.EXCLUSION_REASON: np.where(excluded[participant], "failed attention check", ""),
        }
    )
    funnel = pd.DataFrame(
        {
            tidy.PARTICIPANT: [f"p{i}" for i in range(n_p)],
            tidy.STARTED: True,
            tidy.CONSENTED: True,
            tidy.HEADPHONE_PASSED: True,
            tidy.ATTENTION_PASSED: ~excluded,
            tidy.COMPLETED: True,
        }
    )
    return frame, funnel


@dataclass(frozen=True)
class PairDesign:
    """True parameters of a synthetic pair (2AFC) study.

    Each participant answers ``pairs_per_participant`` pairs, spread evenly over the models,
    with distinct excerpts, the person's excerpt first in half of them. Participant i answers a
    pair of model m right with probability p_im ~ Beta(pc_m * k, (1 - pc_m) * k), k =
    ``concentration``: the population pc of model m is pc_m exactly, and listeners differ.
    With ``excerpt_sd`` > 0 excerpts differ too: a pair of the person's excerpt h and machine
    excerpt j is answered right with probability Phi(z_im * s + a_h - b_j), z_im = Phi^-1(p_im),
    a and b ~ N(0, excerpt_sd), s = sqrt(1 + 2 excerpt_sd^2), which averages to p_im over
    excerpts, so pc_m stays the population pc.
    """

    model_pcs: dict[str, float] = field(default_factory=lambda: {"bachbot": 0.6})
    participants: int = 100
    pairs_per_participant: int = 5
    human_items: int = 40
    items_per_model: int = 40
    concentration: float = 20.0  # inf: every listener has the same pc
    excerpt_sd: float = 0.0  # probit spread of each excerpt's effect, the person's and machine's
    non_musician_share: float = 0.7
    experience_levels: tuple[str, ...] = ("novice", "intermediate", "advanced", "expert")


def _first_columns(rng: np.random.Generator, shape: tuple[int, int], n: int) -> np.ndarray:
    """Per row, n distinct column indices in random order (sampling without replacement)."""
    return np.argsort(rng.random(shape), axis=1)[:, :n]


def simulate_pair_study(
    design: PairDesign, seed: int = 0, study: str = "simulated"
) -> pd.DataFrame:
    """A pair table drawn from ``design`` (deterministic for a seed)."""
    models = np.array(list(design.model_pcs), dtype=object)
    n_models, n, n_p = len(models), design.pairs_per_participant, design.participants
    per_model = -(-n // n_models)
    if n > design.human_items or per_model > design.items_per_model:
        raise ValueError("pairs per participant need more excerpts than the design has")
    rng = np.random.default_rng(seed)
    pcs = np.array([design.model_pcs[m] for m in models])
    pcs = np.broadcast_to(pcs, (n_p, n_models))
    if np.isfinite(design.concentration):
        pcs = rng.beta(pcs * design.concentration, (1 - pcs) * design.concentration)
    # Models in turn from a random start, so each participant's pairs spread evenly over them.
    which = (rng.integers(n_models, size=(n_p, 1)) + np.arange(n)[None, :]) % n_models
    humans = _first_columns(rng, (n_p, design.human_items), n)
    machine = np.stack(
        [_first_columns(rng, (n_p, design.items_per_model), per_model) for _ in models], axis=1
    )
    # The k-th pair is its model's (k // n_models)-th, so each takes its model's next excerpt.
    turn = np.broadcast_to((np.arange(n) // n_models)[None, :, None], (n_p, n, 1))
    machine_item = np.take_along_axis(machine, which[:, :, None], axis=1)
    machine_item = np.take_along_axis(machine_item, turn, axis=2)
    first_count = (n + rng.integers(2, size=(n_p, 1))) // 2  # the odd pair either way
    human_first = np.argsort(rng.random((n_p, n)), axis=1) < first_count
    right = np.take_along_axis(pcs, which, axis=1)
    if design.excerpt_sd > 0:
        chorale = rng.normal(0, design.excerpt_sd, design.human_items)
        piece = rng.normal(0, design.excerpt_sd, (n_models, design.items_per_model))
        spread = np.sqrt(1 + 2 * design.excerpt_sd**2)
        z = special.ndtri(right) * spread + chorale[humans] - piece[which, machine_item[:, :, 0]]
        right = special.ndtr(z)
    correct = rng.random((n_p, n)) < right
    non_musician = rng.random(n_p) < design.non_musician_share
    levels = np.array(design.experience_levels, dtype=object)
    experience = levels[rng.integers(len(levels), size=n_p)]

    person = np.repeat(np.arange(n_p), n)
    source = models[which.ravel()]
    human_names = np.char.add("h", humans.ravel().astype(str))
    machine_names = np.char.add(source.astype(str), machine_item[:, :, 0].ravel().astype(str))
    frame = pd.DataFrame(
        {
            pairs.STUDY: study,
            pairs.PARTICIPANT: np.char.add("p", person.astype(str)),
            pairs.PAIR: np.char.add(np.char.add(human_names, "+"), machine_names),
            pairs.HUMAN_ITEM: human_names,
            pairs.MACHINE_ITEM: machine_names,
            pairs.SOURCE: source,
            pairs.BATCH: "1",
            pairs.HUMAN_FIRST: human_first.ravel(),
            pairs.CHOSE_A: correct.ravel() == human_first.ravel(),
            pairs.CORRECT: correct.ravel(),
            pairs.CONFIDENCE: rng.integers(1, 6, size=n_p * n),
            pairs.RESPONSE_MS: rng.integers(500, 8000, size=n_p * n),
            pairs.PLAYS: 2,
            pairs.MUSICAL_TRAINING_YEARS: np.where(non_musician, 0.0, 6.0)[person],
            pairs.GOLD_MSI_TRAINING: np.where(non_musician, 10.0, 30.0)[person],
            pairs.NON_MUSICIAN: non_musician[person],
            pairs.EXPERIENCE: experience[person],
            pairs.ATTENTION_PASSED: True,
            pairs.HEADPHONE_PASSED: True,
            pairs.COMPLETED: True,
            pairs.EXCLUDED: False,
            pairs.EXCLUSION_REASON: "",
        }
    )
    return pairs.validate(frame)
