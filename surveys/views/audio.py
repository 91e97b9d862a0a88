"""Every sound a participant hears, from one URL pattern: /a/<random token>.

Trial tokens are made per participant and trial, so an address never names or links to an
excerpt. Responses carry the same headers for every sound: one Content-Type, private caching,
no file name, no modification time, no ETag; byte ranges are honoured (Safari needs them).
"""

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from surveys import headphone
from surveys.models import HeadphoneTrial, Trial

CONTENT_TYPE = "audio/mpeg"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _trial_bytes(token: str) -> bytes | None:
    trial = (
        Trial.objects.filter(audio_token=token)
        .select_related("item__stimulus", "attention_clip")
        .first()
    )
    if trial is None:
        return None
    if trial.attention_clip_id:
        field = trial.attention_clip.audio_mp3
    else:
        field = trial.item.stimulus.audio_mp3
    with field.open("rb") as handle:
        return handle.read()


def _headphone_bytes(token: str) -> bytes | None:
    trial = HeadphoneTrial.objects.filter(audio_token=token).first()
    if trial is None:
        return None
    layout = headphone.Layout(quiet=trial.quiet_position, antiphase=trial.antiphase_position)
    return headphone.encode_stereo_mp3(headphone.triplet(layout))


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single satisfiable range, None when there is none to honour."""
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


def _headers(response: HttpResponse) -> HttpResponse:
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_safe
def audio(request: HttpRequest, token: str) -> HttpResponse:
    data = _trial_bytes(token)
    if data is None:
        data = _headphone_bytes(token)
    if data is None:
        raise Http404("No such sound")
    size = len(data)
    try:
        wanted = _byte_range(request.headers.get("Range", ""), size)
    except ValueError:
        response = HttpResponse(status=416, content_type=CONTENT_TYPE)
        response["Content-Range"] = f"bytes */{size}"
        return _headers(response)
    if wanted is None:
        return _headers(HttpResponse(data, content_type=CONTENT_TYPE))
    first, last = wanted
    response = HttpResponse(data[first : last + 1], status=206, content_type=CONTENT_TYPE)
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return _headers(response)
