"""Shared fixtures: media in a temporary folder, a cache namespace of each test's own, real Redis
for Celery, music made on the spot."""

import secrets

import pretty_midi
import pytest

from tests.object_storage import s3_endpoint, s3_storage_env, storage_kind  # noqa: F401
from worker.celery_app import app

EAGER_SETTINGS = ("task_always_eager", "task_eager_propagates", "task_store_eager_result")


def make_researcher(username: str = "ada", password: str = "a-long-password-1", **fields):
    """An account in the Researchers group, as a researcher's is (dashboard/access.py); a plain
    account only reads. A test with a live server empties the tables after it, the group its
    migration made included (Django makes the permissions again), so it is made again here."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from dashboard.access import RESEARCHERS, RUN_EXPERIMENTS, VIEW_PARTICIPANTS

    group, _ = Group.objects.get_or_create(name=RESEARCHERS)
    for permission in (RUN_EXPERIMENTS, VIEW_PARTICIPANTS):
        app_label, codename = permission.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user = get_user_model().objects.create_user(username, password=password, **fields)
    user.groups.add(group)
    return user


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CHECKPOINT_CACHE_DIR = tmp_path / "checkpoint-cache"


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Every test counts in the shared Redis cache afresh: rate limits, the consents one address
    may make in an hour, link openings."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{secrets.token_hex(6)}"}
    }


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks run in the test's own process and database and store their results as a worker
    would. Tasks read store_eager_result when Celery binds them, so it is set on each task too.
    The real worker process is exercised in tests/worker and tests/e2e."""
    saved = {key: app.conf[key] for key in EAGER_SETTINGS}
    app.conf.update(
        task_always_eager=True, task_eager_propagates=False, task_store_eager_result=True
    )
    for task in app.tasks.values():
        monkeypatch.setattr(task, "store_eager_result", True)
    yield
    app.conf.update(saved)


def make_midi(
    notes: list[tuple[int, float, float]], tempo: float = 120.0
) -> pretty_midi.PrettyMIDI:
    """A one-piano MIDI from (pitch, start_beat, end_beat) triples."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    piano = pretty_midi.Instrument(program=0)
    beat = 60.0 / tempo
    for pitch, start, end in notes:
        piano.notes.append(pretty_midi.Note(90, pitch, start * beat, end * beat))
    pm.instruments.append(piano)
    return pm


@pytest.fixture
def chorale_like() -> pretty_midi.PrettyMIDI:
    """Four voices with chords, held notes, a repeated note and a rest."""
    return make_midi(
        [
            (72, 0, 1),
            (67, 0, 1),
            (64, 0, 2),
            (48, 0, 2),
            (74, 1, 1.5),
            (71, 1, 2),
            (72, 1.5, 2),
            (72, 2, 3),
            (72, 3, 4),
            (60, 2, 4),
            (55, 2, 3.75),
            (76, 5, 6.25),
        ]
    )
