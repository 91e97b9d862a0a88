"""Objective metrics of pieces, generated next to human, after Yang and Lerch (2018).

Listening tests say whether people can tell; these say *how* the pieces differ. Each piece gets a
few musically interpretable features (pitch-class histogram, pitch range, used pitches, polyphony,
note density, mean inter-onset interval). A set of pieces is then compared with the human set
the way Yang and Lerch ("On the evaluation of generative models in music", Neural Computing and
Applications, 2018) propose: for each feature, the distribution of distances *within* the human
set is compared with the distribution of distances *between* a generated piece and the human
pieces, by the overlapping area (OA, 1 = indistinguishable) and the Kullback-Leibler divergence
(KL, 0 = indistinguishable) of their kernel density estimates. Absolute feature means are shown too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pretty_midi
from scipy import stats

FEATURES = (
    "pitch_class_histogram",
    "pitch_range",
    "used_pitches",
    "polyphony",
    "note_density",
    "mean_ioi",
)
GRID_POINTS = 512


def _notes(midi: pretty_midi.PrettyMIDI) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    notes = [n for inst in midi.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        raise ValueError("the piece has no pitched notes")
    pitch = np.array([n.pitch for n in notes])
    start = np.array([n.start for n in notes])
    end = np.array([n.end for n in notes])
    return pitch, start, end


def _sounding_time(start: np.ndarray, end: np.ndarray) -> float:
    """Length of the union of note intervals: time in which at least one note sounds."""
    order = np.argsort(start)
    total, cur_start, cur_end = 0.0, start[order[0]], end[order[0]]
    for s, e in zip(start[order[1:]], end[order[1:]], strict=True):
        if s > cur_end:
            total += cur_end - cur_start
            cur_start, cur_end = s, e
        else:
            cur_end = max(cur_end, e)
    return total + cur_end - cur_start


def piece_features(midi: pretty_midi.PrettyMIDI) -> dict[str, np.ndarray]:
    """Feature vectors of one piece (scalar features as length-1 arrays).

    - pitch_class_histogram: share of notes on each of the 12 pitch classes (C = 0);
    - pitch_range: highest minus lowest MIDI pitch, in semitones;
    - used_pitches: number of distinct MIDI pitches;
    - polyphony: mean number of notes sounding while any note sounds;
    - note_density: notes per second from the first onset to the last release;
    - mean_ioi: mean time between successive distinct onsets, in seconds.
    """
    pitch, start, end = _notes(midi)
    histogram = np.bincount(pitch % 12, minlength=12) / pitch.size
    sounding = _sounding_time(start, end)
    span = end.max() - start.min()
    onsets = np.unique(np.round(start, 3))
    return {
        "pitch_class_histogram": histogram,
        "pitch_range": np.array([float(pitch.max() - pitch.min())]),
        "used_pitches": np.array([float(np.unique(pitch).size)]),
        "polyphony": np.array([float((end - start).sum() / sounding) if sounding > 0 else np.nan]),
        "note_density": np.array([pitch.size / span if span > 0 else np.nan]),
        "mean_ioi": np.array([float(np.diff(onsets).mean()) if onsets.size > 1 else np.nan]),
    }


def feature_matrices(pieces: list[pretty_midi.PrettyMIDI]) -> dict[str, np.ndarray]:
    """Per feature, a (pieces x dimension) matrix."""
    if not pieces:
        raise ValueError("no pieces to measure")
    rows = [piece_features(piece) for piece in pieces]
    return {name: np.vstack([row[name] for row in rows]) for name in FEATURES}


def intra_distances(features: np.ndarray) -> np.ndarray:
    """Euclidean distances between every pair of pieces of one set (each pair once)."""
    features = features[~np.isnan(features).any(axis=1)]
    i, j = np.triu_indices(len(features), k=1)
    return np.linalg.norm(features[i] - features[j], axis=1)


def inter_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between every piece of set ``a`` and every piece of set ``b``."""
    a = a[~np.isnan(a).any(axis=1)]
    b = b[~np.isnan(b).any(axis=1)]
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2).ravel()


def _density(sample: np.ndarray, grid: np.ndarray, scale: float) -> np.ndarray:
    if sample.size > 1 and np.ptp(sample) > 0:
        return stats.gaussian_kde(sample)(grid)
    # A degenerate sample (all distances equal) is a point mass; give it a narrow bump.
    return stats.norm.pdf(grid, loc=sample.mean(), scale=max(scale * 0.01, 1e-9))


def _densities(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if x.size == 0 or y.size == 0:
        raise ValueError("need at least one distance in each sample")
    both = np.concatenate([x, y])
    scale = float(np.ptp(both)) or float(abs(both.mean())) or 1.0
    grid = np.linspace(both.min() - 0.5 * scale, both.max() + 0.5 * scale, GRID_POINTS)
    return grid, _density(x, grid, scale), _density(y, grid, scale)


def overlap_area(x: np.ndarray, y: np.ndarray) -> float:
    """Area under the smaller of the two kernel density estimates: 1 = same distribution."""
    grid, f, g = _densities(np.asarray(x, float), np.asarray(y, float))
    return float(np.clip(np.trapezoid(np.minimum(f, g), grid), 0.0, 1.0))


def kl_divergence(x: np.ndarray, y: np.ndarray) -> float:
    """KL(P_x || P_y) of the kernel density estimates, in nats: 0 = same distribution."""
    grid, f, g = _densities(np.asarray(x, float), np.asarray(y, float))
    tiny = 1e-12
    f = f / np.trapezoid(f, grid)
    g = g / np.trapezoid(g, grid)
    return float(max(0.0, np.trapezoid(f * np.log((f + tiny) / (g + tiny)), grid)))


def compare_sets(
    human: list[pretty_midi.PrettyMIDI], generated: list[pretty_midi.PrettyMIDI]
) -> pd.DataFrame:
    """Per feature: means of both sets, and OA / KL of intra-human vs human-to-generated distances.

    Needs at least two human pieces (to have intra-set distances).
    """
    if len(human) < 2:
        raise ValueError("need at least two human pieces to compare against")
    h, g = feature_matrices(human), feature_matrices(generated)
    rows = []
    for name in FEATURES:
        intra = intra_distances(h[name])
        inter = inter_distances(g[name], h[name])
        rows.append(
            {
                "feature": name,
                "human_mean": float(np.nanmean(h[name].mean(axis=1)))
                if h[name].shape[1] == 1
                else np.nan,
                "generated_mean": float(np.nanmean(g[name].mean(axis=1)))
                if g[name].shape[1] == 1
                else np.nan,
                "intra_human_distance": float(intra.mean()) if intra.size else np.nan,
                "inter_distance": float(inter.mean()) if inter.size else np.nan,
                "overlap_area": overlap_area(intra, inter) if intra.size and inter.size else np.nan,
                "kl_divergence": kl_divergence(intra, inter)
                if intra.size and inter.size
                else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("feature")


@dataclass(frozen=True)
class SetProfile:
    """What a listener hears first in a set of excerpts of equal length: how many notes, how
    many at once, how wide, in which keys. `pitch_class_distance` is the total variation distance
    between the set's pitch-class histogram and the reference (human) set's: the share of notes
    that would have to move to another pitch class, 0 for the same distribution, 1 for disjoint."""

    label: str
    excerpts: int
    notes_per_bar: float
    polyphony: float
    pitch_range: float
    pitch_class_distance: float


def set_profiles(
    human: list[pretty_midi.PrettyMIDI], others: dict[str, list[pretty_midi.PrettyMIDI]], bars: int
) -> list[SetProfile]:
    """The human set's profile, then each other set's beside it (excerpts of `bars` bars)."""
    if not human:
        raise ValueError("no human excerpts to compare with")
    reference = feature_matrices(human)["pitch_class_histogram"].mean(axis=0)
    profiles = []
    for label, pieces in {"human": human, **others}.items():
        if not pieces:
            continue
        features = feature_matrices(pieces)
        notes = [sum(len(i.notes) for i in p.instruments if not i.is_drum) for p in pieces]
        histogram = features["pitch_class_histogram"].mean(axis=0)
        profiles.append(
            SetProfile(
                label=label,
                excerpts=len(pieces),
                notes_per_bar=float(np.mean(notes)) / bars,
                polyphony=float(np.nanmean(features["polyphony"])),
                pitch_range=float(np.mean(features["pitch_range"])),
                pitch_class_distance=float(0.5 * np.abs(histogram - reference).sum()),
            )
        )
    return profiles
