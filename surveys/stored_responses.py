"""HTTP responses that stream a stored file, honouring a single byte range (Safari asks for
ranges before it plays a sound). Used for every sound a participant hears and every file a
researcher downloads: the storage may be private, so browsers never get a storage URL.
"""

import re
from collections.abc import Callable, Iterator

from django.http import HttpResponse, StreamingHttpResponse

from generation.stored_files import StoredFile

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

Chunks = Callable[[int, int], Iterator[bytes]]


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single satisfiable range, None when there is none to honour.

    Raises ValueError for a range that lies past the end of the file (answered with 416)."""
    match = _RANGE.match(header.strip())
    if not match or not (match[1] or match[2]):
        return None
    if match[1]:
        first = int(match[1])
        last = min(int(match[2]), size - 1) if match[2] else size - 1
    else:
        first, last = max(size - int(match[2]), 0), size - 1
    if first > last or first >= size:
        raise ValueError("unsatisfiable range")
    return first, last


def ranged_response(range_header: str, size: int, chunks: Chunks, content_type: str):
    """200 with the whole body, 206 with the range asked for, or 416 when it cannot be met.

    chunks(first, last) yields the bytes first..last; they are streamed, never joined here."""
    try:
        wanted = byte_range(range_header, size)
    except ValueError:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = wanted or (0, size - 1)
    response = StreamingHttpResponse(
        chunks(first, last), status=206 if wanted else 200, content_type=content_type
    )
    response["Content-Length"] = str(last - first + 1)
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response


def stored_file_response(
    request, name: str, content_type: str, download_as: str | None = None
) -> HttpResponse:
    """A stored file streamed from storage, ranges honoured; download_as names an attachment."""
    stored = StoredFile(name)
    response = ranged_response(
        request.headers.get("Range", ""), stored.size, stored.chunks, content_type
    )
    if response.status_code == 416:
        stored.close()
    if download_as:
        response["Content-Disposition"] = f'attachment; filename="{download_as}"'
    return response


def bytes_chunks(data: bytes) -> Chunks:
    """chunks(first, last) over bytes already in memory (a sound made on the spot)."""
    return lambda first, last: iter([data[first : last + 1]])
