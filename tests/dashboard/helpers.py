"""Shared set-up for the dashboard tests: a researcher and a small corpus."""

import numpy as np
import pytest
from django.core.cache import cache

from dashboard.jobs import RECENT_TASKS_KEY
from generation.midi_files import midi_bytes, read_midi
from generation.models import Corpus, Piece
from tests.conftest import make_midi, make_researcher

TINY_RUN = {
    "model": "roll_lstm",
    "epochs": "2",
    "batch_size": "8",
    "learning_rate": "0.01",
    "hidden_size": "8",
    "dense_size": "8",
    "embedding_dim": "0",
    "window": "8",
    "stride": "4",
    "max_windows": "16",
    "steps_per_beat": "2",
    "teacher_forcing_ratio": "1.0",
    "threshold": "0.5",
    "focal_alpha": "0.5",
    "focal_gamma": "2.0",
    "seed": "0",
    "device": "cpu",
    "head": "independent",
    "bias_init": "marginal",
    "weight_decay": "0",
    "grad_clip": "1.0",
    "lr_decay": "0.5",
    "lr_patience": "3",
}


@pytest.fixture(name="researcher")
def researcher_fixture(client, django_user_model):
    cache.delete(RECENT_TASKS_KEY)  # the job list lives in Redis, shared with other test runs
    user = make_researcher("ada", password="a-long-password-1")
    client.force_login(user)
    return user


def melody(seed: int, beats: int = 24) -> bytes:
    rng = np.random.default_rng(seed)
    notes = []
    for beat in range(beats):
        pitch = int(rng.integers(60, 72))
        notes += [(pitch, beat, beat + 1), (pitch - 12, beat, beat + 0.5)]
    return midi_bytes(make_midi(notes))


@pytest.fixture(name="small_corpus")
def small_corpus_fixture(db) -> Corpus:
    """Eight pieces with fixed splits: six to train on, one to validate, one held out."""
    corpus = Corpus.objects.create(slug="mini", title="mini", source=Corpus.Source.UPLOAD)
    splits = ["train"] * 6 + ["valid", "test"]
    for index, split in enumerate(splits):
        data = melody(index)
        piece = Piece.from_midi(corpus, f"piece {index}", read_midi(data), split)
        piece.store_midi(data)
        piece.save()
    return corpus
