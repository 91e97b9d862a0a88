"""Checkpoints in shared storage, so a run trained on one machine resumes or generates on any.

A training attempt writes each epoch's checkpoint on its own disk (generation.training), then
uploads it under a key named by the run and the file's SHA-256: an object, once there, never
changes, so a reader can never see half of one. The run's row then records which key is its
last and best checkpoint, with size and hash, in one update; a crash between the upload and
that update leaves the previous checkpoint recorded, and the resumed run redoes one epoch.

Every worker keeps what it downloads in CHECKPOINT_CACHE_DIR, on its own disk, under the hash.
A cached or downloaded file is used only when its size and hash match the record. The cache is
held under CHECKPOINT_CACHE_MB by dropping the checkpoints used longest ago after each download;
storage keeps every one, so a dropped checkpoint is only downloaded again.
"""

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from generation.stored_files import StoredFile
from generation.training import LAST

READ_BYTES = 1024 * 1024
# A cached checkpoint used this recently may be about to be loaded by another process of the
# same machine, and an interrupted download this recent may still be going: pruning spares both.
IN_USE_SECONDS = 3600


class CheckpointMismatch(Exception):
    """A stored checkpoint differs from what its run recorded (size or hash)."""


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex) of a local file, read in pieces."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def upload_checkpoint(run_pk: int, local: Path, epoch: int) -> dict:
    """Stores a local checkpoint under the run's key and returns the record of it."""
    size, sha256 = file_digest(local)
    key = f"checkpoints/run-{run_pk}/{sha256}.pt"
    if default_storage.exists(key) and default_storage.size(key) != size:
        default_storage.delete(key)  # the remains of an upload cut short
    if not default_storage.exists(key):
        with local.open("rb") as handle:
            key = default_storage.save(key, File(handle, name=key))
    return {"key": key, "size": size, "sha256": sha256, "epoch": epoch}


def superseded(before: dict, after: dict) -> set[str]:
    """Keys a run's record named before an update and names no longer after it."""
    return {r["key"] for r in before.values()} - {r["key"] for r in after.values()}


def delete_checkpoints(keys: set[str]) -> None:
    """Deletes checkpoints no run names any more, so storage keeps two per run, not one an
    epoch. (One uploaded by an attempt killed before it was recorded stays behind.)"""
    for key in keys:
        default_storage.delete(key)


def cache_dir() -> Path:
    folder = Path(settings.CHECKPOINT_CACHE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fetch_checkpoint(record: dict) -> Path:
    """The recorded checkpoint as a local file in this worker's cache, downloaded if need be.

    Raises CheckpointMismatch when what storage holds is not what the run recorded."""
    cached = cache_dir() / f"{record['sha256']}.pt"
    if cached.exists() and file_digest(cached) == (record["size"], record["sha256"]):
        os.utime(cached)  # used now: the last to be pruned
        return cached
    handle, partial = tempfile.mkstemp(dir=cached.parent, suffix=".partial")
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(handle, "wb") as out:
            for chunk in StoredFile(record["key"]).chunks():
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if (size, digest.hexdigest()) != (record["size"], record["sha256"]):
            raise CheckpointMismatch(
                f"checkpoint {record['key']} in storage has {size} bytes and hash "
                f"{digest.hexdigest()[:12]}, not the {record['size']} bytes and hash "
                f"{record['sha256'][:12]} its run recorded: it was changed or damaged"
            )
        os.replace(partial, cached)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    prune_cache(settings.CHECKPOINT_CACHE_MB * 1024 * 1024)
    return cached


def prune_cache(limit_bytes: int) -> list[Path]:
    """Deletes the cached checkpoints used longest ago until the cache holds at most
    `limit_bytes`, sparing any used within IN_USE_SECONDS; also deletes downloads cut short
    before then. Returns what it deleted."""
    folder = cache_dir()
    recent = time.time() - IN_USE_SECONDS
    deleted = [p for p in folder.glob("*.partial") if p.stat().st_mtime < recent]
    cached = sorted((st.st_mtime, st.st_size, p) for p in folder.glob("*.pt") for st in [p.stat()])
    total = sum(size for _, size, _ in cached)
    for used, size, path in cached:
        if total <= limit_bytes or used >= recent:
            break
        total -= size
        deleted.append(path)
    for path in deleted:
        path.unlink(missing_ok=True)
    return deleted


def working_folder(run_pk: int, last: dict | None) -> Path:
    """A fresh folder for one training attempt, holding the run's last checkpoint if any, so the
    loop resumes from what storage holds whatever this machine's disk has seen."""
    folder = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=f"run-{run_pk}-"))
    if last:
        shutil.copyfile(fetch_checkpoint(last), folder / LAST)
    return folder
