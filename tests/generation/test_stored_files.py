"""Stored files read a piece at a time, from a folder or a bucket alike, and served with byte
ranges by the views that stream them (never by a storage URL)."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import RequestFactory

from generation.stored_files import CHUNK_BYTES, StoredFile, read_stored
from surveys.stored_responses import stored_file_response

DATA = bytes(range(256)) * 4096  # 1 MiB


def test_a_large_file_is_read_in_chunks_and_by_range(storage_kind):
    name = default_storage.save("stimuli/large.bin", ContentFile(DATA))
    stored = StoredFile(name)
    assert stored.size == len(DATA)
    chunks = list(stored.chunks())
    assert len(chunks) > 1 and max(map(len, chunks)) <= CHUNK_BYTES
    assert b"".join(chunks) == DATA
    assert b"".join(StoredFile(name).chunks(1000, 300_000)) == DATA[1000:300_001]
    assert b"".join(StoredFile(name).chunks(len(DATA) - 3)) == DATA[-3:]
    assert read_stored(name) == DATA


def test_a_stored_file_is_streamed_with_ranges(storage_kind):
    name = default_storage.save("stimuli/sound.mp3", ContentFile(DATA))
    whole = stored_file_response(RequestFactory().get("/"), name, "audio/mpeg")
    assert whole.streaming and whole.status_code == 200
    assert whole["Content-Length"] == str(len(DATA))
    assert b"".join(whole.streaming_content) == DATA
    part = stored_file_response(RequestFactory().get("/", HTTP_RANGE="bytes=-10"), name, "x/y")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes {len(DATA) - 10}-{len(DATA) - 1}/{len(DATA)}"
    assert b"".join(part.streaming_content) == DATA[-10:]
    beyond = stored_file_response(
        RequestFactory().get("/", HTTP_RANGE=f"bytes={len(DATA)}-"), name, "audio/mpeg"
    )
    assert beyond.status_code == 416
