"""Checkpoints in shared storage: a run interrupted on one worker resumes on a fresh one (empty
cache, empty MEDIA_ROOT) from the bucket alone and ends as an uninterrupted run does; a stored
checkpoint that differs from its record is refused."""

import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generation.checkpoint_store import (
    CheckpointMismatch,
    fetch_checkpoint,
    file_digest,
    prune_cache,
    upload_checkpoint,
)
from generation.models import TrainingRun
from generation.models.runs import Status
from generation.tasks.training import create_training_run, execute_training_run
from generation.training import TrainConfig
from tests.dashboard.helpers import small_corpus_fixture  # noqa: F401 - fixture
from tests.dashboard.test_jobs import TINY_CONFIG

pytestmark = pytest.mark.django_db


class MachineGone(Exception):
    pass


def _fresh_worker(settings, tmp_path, name: str) -> None:
    """Another machine: its own empty media folder and checkpoint cache."""
    settings.MEDIA_ROOT = tmp_path / name / "media"
    settings.CHECKPOINT_CACHE_DIR = tmp_path / name / "cache"


def _new_run(corpus) -> TrainingRun:
    config = TrainConfig(**{**TINY_CONFIG, "epochs": 3, "device": "cpu"})
    return create_training_run(corpus, config, steps_per_beat=2)


def test_a_fresh_worker_resumes_from_storage_alone_and_ends_as_an_uninterrupted_run(
    s3_storage_env, small_corpus, settings, tmp_path
):
    whole = execute_training_run(_new_run(small_corpus))
    assert whole.status == Status.SUCCEEDED

    _fresh_worker(settings, tmp_path, "first")
    cut = _new_run(small_corpus)

    def machine_dies(metrics: dict) -> None:
        if metrics["epoch"] == 2:
            raise MachineGone

    with pytest.raises(MachineGone):
        execute_training_run(cut, on_epoch=machine_dies)
    cut.refresh_from_db()
    assert cut.checkpoints["last"]["epoch"] == 2 and len(cut.history) == 2

    _fresh_worker(settings, tmp_path, "second")
    TrainingRun.objects.filter(pk=cut.pk).update(status=Status.PENDING)
    cut.refresh_from_db()
    resumed = execute_training_run(cut)
    assert resumed.status == Status.SUCCEEDED, resumed.error
    assert resumed.history == whole.history
    assert resumed.best_epoch == whole.best_epoch
    assert resumed.test_metrics == whole.test_metrics
    assert not (tmp_path / "second" / "media").exists()  # nothing went to the local disk
    folder = f"checkpoints/run-{cut.pk}"
    kept = {f"{folder}/{name}" for name in default_storage.listdir(folder)[1]}
    assert kept == {record["key"] for record in resumed.checkpoints.values()}  # no old epochs


def test_a_checkpoint_is_fetched_once_and_checked_by_size_and_hash(
    s3_storage_env, settings, tmp_path
):
    local = tmp_path / "last.pt"
    local.write_bytes(b"weights" * 1000)
    record = upload_checkpoint(7, local, epoch=1)
    assert record["size"] == 7000 and (record["size"], record["sha256"]) == file_digest(local)
    assert upload_checkpoint(7, local, epoch=1) == record  # the same bytes, the same object

    cached = fetch_checkpoint(record)
    assert cached.read_bytes() == local.read_bytes()
    cached.write_bytes(b"damaged on this disk")
    assert fetch_checkpoint(record).read_bytes() == local.read_bytes()  # fetched again

    _fresh_worker(settings, tmp_path, "other")
    default_storage.delete(record["key"])
    default_storage.save(record["key"], ContentFile(b"something else"))
    with pytest.raises(CheckpointMismatch, match="changed or damaged"):
        fetch_checkpoint(record)
    assert not list((tmp_path / "other" / "cache").iterdir())  # nothing half-written is kept


def _aged(path, size: int, hours_ago: float):
    path.write_bytes(b"x" * size)
    when = time.time() - hours_ago * 3600
    os.utime(path, (when, when))
    return path


def test_the_cache_drops_the_checkpoints_used_longest_ago_but_never_one_in_use(settings, tmp_path):
    settings.CHECKPOINT_CACHE_DIR = tmp_path
    oldest = _aged(tmp_path / "a.pt", 3000, hours_ago=5)
    older = _aged(tmp_path / "b.pt", 3000, hours_ago=2)
    in_use = _aged(tmp_path / "c.pt", 3000, hours_ago=0.1)
    cut_short = _aged(tmp_path / "d.partial", 10, hours_ago=3)
    downloading = _aged(tmp_path / "e.partial", 10, hours_ago=0)

    assert set(prune_cache(6000)) == {oldest, cut_short}
    assert older.exists() and in_use.exists() and downloading.exists()
    assert prune_cache(0) == [older]
    assert in_use.exists() and downloading.exists()


def test_a_download_prunes_the_cache_and_a_cache_hit_counts_as_a_use(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CHECKPOINT_CACHE_DIR = tmp_path / "cache"
    settings.CHECKPOINT_CACHE_MB = 0
    local = tmp_path / "local.pt"
    local.write_bytes(b"weights" * 1000)
    record = upload_checkpoint(1, local, epoch=1)
    (tmp_path / "cache").mkdir()
    stale = _aged(tmp_path / "cache" / "old.pt", 100, hours_ago=2)
    hit = tmp_path / "cache" / f"{record['sha256']}.pt"

    assert fetch_checkpoint(record) == hit and not stale.exists()
    os.utime(hit, (time.time() - 7200, time.time() - 7200))
    assert fetch_checkpoint(record) == hit
    assert hit.stat().st_mtime > time.time() - 60
