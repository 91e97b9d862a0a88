"""Synthetic rolls a network can learn from, and settings that learn them in seconds."""

import numpy as np

KEYS = 88


def chord_cycle(seed: int, pieces: int = 12, length: int = 40) -> list[np.ndarray]:
    """Sparse rolls like chorales (4 of 88 keys a frame) whose next chord follows from the
    current one: a cycle of 8 chords, each piece entering it at a random point."""
    rng = np.random.default_rng(0)
    chords = np.zeros((8, KEYS), np.float32)
    for i in range(8):
        chords[i, rng.choice(np.arange(30, 60), 4, replace=False)] = 1
    starts = np.random.default_rng(seed).integers(0, 8, pieces)
    return [chords[(s + np.arange(length)) % 8] for s in starts]


SMALL = dict(
    model="roll_lstm",
    input_dim=KEYS,
    loss="bce",
    head="independent",
    hidden_size=32,
    dense_size=32,
    window=16,
    batch_size=8,
    epochs=6,
    seed=0,
    learning_rate=0.01,
)
