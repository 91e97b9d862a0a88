"""Every file the platform keeps lives in Django's default storage: a folder on one machine, an
S3-compatible bucket when workers run on several. This module reads stored files a piece at a
time, so a process never holds a whole large file in memory and never needs a shared disk.
"""

from collections.abc import Iterator

from django.core.files.storage import Storage, default_storage
from storages.backends.s3 import S3Storage

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
    """A small stored file whole (a MIDI file, an upload), read through the storage API."""
    return b"".join(StoredFile(name, storage).chunks())
