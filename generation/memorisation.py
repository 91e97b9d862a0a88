"""How much of a generated piece is copied from the pieces it is held against (no Django here):
every split of a trained model's corpus (a primer comes from its test split), or the whole
corpus an external generator names. They are called the training pieces below.

Two numbers per piece: the longest stretch of consecutive steps that appears verbatim in some
training piece (reported in beats), and the share of the piece's n-grams that occur anywhere in
the training split. Steps are compared exactly in the representation the model saw (a whole roll
frame, or a token). Stretches are found with rolling 64-bit hashes of every training n-gram, so a
check is a sorted-array lookup instead of a scan of the corpus; a hash collision could only
overstate a match, never hide one.

A copy in another key is still a copy: many generators train on every piece in every key its
ranges allow (DeepBach did), so the screen compares each piece in every transposition within an
octave either way and keeps the worst case, with the transposition that gave it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from generation.encoding.pianoroll import transpose_frames
from generation.encoding.tokens import Vocabulary, transpose_token

_MASK = (1 << 64) - 1

# A generated piece counts as a copy, and stays out of studies unless asked for, when it repeats
# two bars of 4/4 verbatim from the training split, or half of its n-grams occur there.
MEMORISED_BEATS = 8.0
MEMORISED_NGRAM_SHARE = 0.5


# Semitones a piece is moved before it is compared, the untransposed piece first so a tie keeps 0.
TRANSPOSITIONS = tuple(sorted(range(-11, 12), key=lambda k: (abs(k), k)))

Transposer = Callable[[np.ndarray, int], np.ndarray]


def roll_transposer() -> Transposer:
    """Moves (T, 176) roll frames; keys pushed off the piano are dropped."""
    return transpose_frames


def token_transposer(vocabulary: Vocabulary) -> Transposer:
    """Moves a sequence of vocabulary indices; a token the vocabulary lacks becomes -1, which no
    training sequence holds, so no match runs through it."""

    def transpose(indices: np.ndarray, semitones: int) -> np.ndarray:
        if semitones == 0:
            return np.asarray(indices)
        moved = [
            vocabulary.index.get(transpose_token(vocabulary.tokens[i], semitones), -1)
            if i >= 0
            else -1
            for i in np.asarray(indices).tolist()
        ]
        return np.array(moved, dtype=np.int64)

    return transpose


def is_memorised(longest_verbatim_beats: float, ngram_share: float) -> bool:
    return longest_verbatim_beats >= MEMORISED_BEATS or ngram_share >= MEMORISED_NGRAM_SHARE


@dataclass(frozen=True)
class MemorisationScore:
    longest_steps: int
    longest_beats: float
    ngram_steps: int
    ngram_share: float
    transposition: int = 0  # semitones the piece was moved to find its longest match


class TrainingIndex:
    """Hashes of the training split's steps and n-grams, built once and shared by a batch."""

    def __init__(self, sequences: Sequence[np.ndarray], seed: int = 0):
        rng = np.random.default_rng(seed)
        self._base = int(rng.integers(1, 1 << 63)) * 2 + 1
        self._rng = rng
        self._codes: dict[bytes, int] = {}
        self._prefixes = [self._prefix(np.asarray(s)) for s in sequences if len(s)]
        self._grams: dict[int, np.ndarray] = {}
        if not self._prefixes:
            raise ValueError("the training split is empty; nothing to compare against")

    def _code(self, step: np.ndarray) -> int:
        key = np.ascontiguousarray(step).astype(np.float32).tobytes()
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = int(self._rng.integers(0, 1 << 63)) * 2 + 1
        return code

    def _prefix(self, sequence: np.ndarray) -> np.ndarray:
        """H[0] = 0, H[i+1] = H[i] * base + code(step i), all modulo 2**64."""
        prefix = [0]
        for step in sequence:
            prefix.append((prefix[-1] * self._base + self._code(step)) & _MASK)
        return np.array(prefix, dtype=np.uint64)

    def _hashes(self, prefix: np.ndarray, n: int) -> np.ndarray:
        if len(prefix) - 1 < n:
            return np.zeros(0, dtype=np.uint64)
        power = np.uint64(pow(self._base, n, 1 << 64))
        with np.errstate(over="ignore"):
            return prefix[n:] - prefix[:-n] * power

    def _training_grams(self, n: int) -> np.ndarray:
        if n not in self._grams:
            found = [self._hashes(p, n) for p in self._prefixes]
            self._grams[n] = np.unique(np.concatenate(found))
        return self._grams[n]

    def _found(self, prefix: np.ndarray, n: int) -> np.ndarray:
        hashes = self._hashes(prefix, n)
        grams = self._training_grams(n)  # sorted by np.unique
        if not len(grams):
            return np.zeros(len(hashes), dtype=bool)
        at = np.minimum(np.searchsorted(grams, hashes), len(grams) - 1)
        return grams[at] == hashes

    def longest_match(self, sequence: np.ndarray) -> int:
        """Length in steps of the longest stretch of `sequence` found verbatim in training."""
        return self._longest(self._prefix(np.asarray(sequence)), 0)

    def _longest(self, prefix: np.ndarray, at_least: int) -> int:
        """The longest match, or `at_least` when none is longer (a cheap check decides that)."""
        low, high = at_least, len(prefix) - 1
        if low >= high or not self._found(prefix, low + 1).any():
            return low
        low += 1
        while low < high:
            mid = (low + high + 1) // 2
            if self._found(prefix, mid).any():
                low = mid
            else:
                high = mid - 1
        return low

    def ngram_share(self, sequence: np.ndarray, n: int) -> float:
        """Share of the sequence's n-grams (n consecutive steps) that occur in training."""
        if n < 1:
            raise ValueError("n must be at least 1")
        if len(sequence) < n:
            raise ValueError(f"a piece of {len(sequence)} steps has no {n}-grams")
        return float(self._found(self._prefix(np.asarray(sequence)), n).mean())

    def score(
        self, sequence: np.ndarray, steps_per_beat: float, ngram_steps: int
    ) -> MemorisationScore:
        longest = self.longest_match(sequence)
        return MemorisationScore(
            longest_steps=longest,
            longest_beats=longest / steps_per_beat,
            ngram_steps=ngram_steps,
            ngram_share=self.ngram_share(sequence, ngram_steps),
        )

    def score_in_every_key(
        self,
        sequence: np.ndarray,
        steps_per_beat: float,
        ngram_steps: int,
        transpose: Transposer,
    ) -> MemorisationScore:
        """The worst score over TRANSPOSITIONS: the longest match and the largest n-gram share
        found in any key (each may come from a different one); `transposition` is the key of the
        longest match."""
        longest, key, share = 0, 0, 0.0
        for semitones in TRANSPOSITIONS:
            prefix = self._prefix(transpose(np.asarray(sequence), semitones))
            found = self._longest(prefix, longest)
            if found > longest:
                longest, key = found, semitones
            if len(prefix) - 1 >= ngram_steps:
                share = max(share, float(self._found(prefix, ngram_steps).mean()))
        return MemorisationScore(
            longest_steps=longest,
            longest_beats=longest / steps_per_beat,
            ngram_steps=ngram_steps,
            ngram_share=share,
            transposition=key,
        )
