"""Every sound a participant hears, from one URL pattern: /a/<random token>.

Trial tokens are made per participant and trial, so an address never names or links to an
excerpt. Responses carry the same headers for every sound: one Content-Type per format, private
caching, no file name, no modification time, no ETag; byte ranges are honoured (Safari needs them).

Each excerpt and attention clip comes in two formats: MP3 at /a/<token> and Ogg/Opus at
/a/<token>?f=ogg. Any other `f` is a 404 for every token alike. The trial page offers the Ogg only
when every sound of its study has one, so no trial's requests or responses differ by source.
Headphone-check tones are stereo MP3 only (their antiphase tone must survive coding untouched);
their page never asks for `f=ogg`, and asking gets the same 404 as any missing sound.
"""

import re

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from surveys import headphone
from surveys.models import HeadphoneTrial, Study, Trial

_FORMATS = {None: ("audio_mp3", "audio/mpeg"), "ogg": ("audio_ogg", "audio/ogg")}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def offers_ogg(study: Study) -> bool:
    """Whether a study's trial pages may offer the Ogg: only when all its sounds have one."""
    return not (
        study.stimuli.filter(audio_ogg="").exists()
        or study.attention_clips.filter(audio_ogg="").exists()
    )


def _trial_bytes(token: str, field_name: str) -> bytes | None:
    """A trial's sound by its address; a pair trial's excerpt B has an address of its own."""
    trial = (
        Trial.objects.filter(Q(audio_token=token) | Q(audio_token_b=token))
        .select_related("item__stimulus", "item_b__stimulus", "attention_clip")
        .first()
    )
    if trial is None:
        return None
    if trial.attention_clip_id:
        sound = trial.attention_clip
    elif trial.audio_token_b == token:
        sound = trial.item_b.stimulus
    else:
        sound = trial.item.stimulus
    field = getattr(sound, field_name)
    if not field:
        return None
    with field.open("rb") as handle:
        return handle.read()


def _headphone_bytes(token: str, field_name: str) -> bytes | None:
    trial = HeadphoneTrial.objects.filter(audio_token=token).first()
    if trial is None or field_name != "audio_mp3":
        return None
    layout = headphone.Layout(quiet=trial.quiet_position, antiphase=trial.antiphase_position)
    return headphone.layout_mp3(layout)


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
    if "f" in request.GET and request.GET["f"] not in _FORMATS:
        raise Http404("No such sound")
    field_name, content_type = _FORMATS[request.GET.get("f")]
    data = _trial_bytes(token, field_name)
    if data is None:
        data = _headphone_bytes(token, field_name)
    if data is None:
        raise Http404("No such sound")
    size = len(data)
    try:
        wanted = _byte_range(request.headers.get("Range", ""), size)
    except ValueError:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        return _headers(response)
    if wanted is None:
        return _headers(HttpResponse(data, content_type=content_type))
    first, last = wanted
    response = HttpResponse(data[first : last + 1], status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return _headers(response)
