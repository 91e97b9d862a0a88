"""Every file the platform keeps lives in Django's default storage: a folder on one machine, an
S3-compatible bucket when workers run on several. This module reads stored files a piece at a
time, so a process never holds a whole large file in memory and never needs a shared disk.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

CHUNK_BYTES = 64 * 1024


class StoredFile:
    """One stored file opened for reading: its size at once, its bytes as they are wanted.

    Opening asks the storage only for the file's size (a stat, or a HEAD request to the
    bucket). A bucket is then asked for just the byte range wanted, and its answer passed on as
    it arrives; reading through the storage API's file object would download the whole file
    before the first byte.
    """

    def __init__(self, name: str, storage: Storage | None = None):
        self._storage = storage or default_storage
        self._handle = self._storage.open(name, "rb")
        self.size: int = self._handle.size

    def chunks(self, first: int = 0, last: int | None = None) -> Iterator[bytes]:
        """Bytes first..last (inclusive; None: to the end), then the file is closed."""
        last = self.size - 1 if last is None else min(last, self.size - 1)
        try:
            if last < first:
                return
            if isinstance(self._storage, S3Storage):
                body = self._handle.obj.get(Range=f"bytes={first}-{last}")["Body"]
                try:
                    yield from body.iter_chunks(CHUNK_BYTES)
                finally:
                    body.close()
                return
            self._handle.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = self._handle.read(min(CHUNK_BYTES, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._handle.close()


def read_stored(name: str, storage: Storage | None = None) -> bytes:
    """A small stored file whole (a MIDI file, an upload): from a bucket in one request (opening
    it through the storage API asks for its size first, a second round trip)."""
    storage = storage or default_storage
    if isinstance(storage, S3Storage):
        key = storage._normalize_name(clean_name(name))
        body = storage.bucket.Object(key).get()["Body"]
        try:
            return body.read()
        finally:
            body.close()
    with storage.open(name, "rb") as handle:
        return handle.read()


@cache
def _uploader() -> ThreadPoolExecutor:
    """This process's upload threads, made on first use (after a worker forks, never before) and
    kept, so each keeps its own connection to the bucket (S3Storage holds one per thread)."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="storage-upload")


def save_all(files: dict[str, bytes], storage: Storage | None = None) -> dict[str, str]:
    """Stores several files at once and returns the name each was stored under.

    A bucket answers each upload after a round trip; sent side by side, a stimulus's MP3, Ogg
    and image cost about one round trip instead of three."""
    storage = storage or default_storage
    names = list(files)
    saved = _uploader().map(lambda name: storage.save(name, ContentFile(files[name])), names)
    return dict(zip(names, saved, strict=True))
