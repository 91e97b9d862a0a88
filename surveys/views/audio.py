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

from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from generation.stored_files import StoredFile
from surveys import headphone
from surveys.models import AttentionClip, HeadphoneTrial, Stimulus, Study, Trial
from surveys.queries import unique_or_none
from surveys.stored_responses import bytes_chunks, ranged_response

_FORMATS = {None: ("audio_mp3", "audio/mpeg"), "ogg": ("audio_ogg", "audio/ogg")}


OGG_CHECK_SECONDS = 60


def offers_ogg(study: Study) -> bool:
    """Whether a study's trial pages may offer the Ogg: only when all its sounds have one.

    Every trial page asks, so the answer is kept in the shared cache for a minute: it is the
    same for every page of the study at any moment, and an Ogg made later is offered to all
    from the next minute on.
    """
    key = f"offers-ogg:{study.pk}"
    offered = cache.get(key)
    if offered is None:
        offered = not (
            study.stimuli.filter(audio_ogg="").exists()
            or study.attention_clips.filter(audio_ogg="").exists()
        )
        cache.set(key, offered, OGG_CHECK_SECONDS)
    return offered


def _trial_sound(token: str, field_name: str) -> StoredFile | None:
    """A trial's sound by its address; a pair trial's excerpt B has an address of its own.

    Asks for the stored names alone: every sound of every trial comes through here, and
    loading the trial, its excerpts and its clip as whole rows cost most of a sound's request.
    """
    sounds = Trial.objects.filter(Q(audio_token=token) | Q(audio_token_b=token)).values_list(
        "audio_token_b",
        f"attention_clip__{field_name}",
        f"item__stimulus__{field_name}",
        f"item_b__stimulus__{field_name}",
    )
    found = unique_or_none(sounds)
    if found is None:
        return None
    token_b, clip, excerpt_a, excerpt_b = found
    if clip is not None:
        name, model = clip, AttentionClip
    else:
        name, model = (excerpt_b if token_b == token else excerpt_a), Stimulus
    if not name:
        return None
    return StoredFile(name, model._meta.get_field(field_name).storage)


def _headphone_bytes(token: str, field_name: str) -> bytes | None:
    trial = unique_or_none(HeadphoneTrial.objects.filter(audio_token=token))
    if trial is None or field_name != "audio_mp3":
        return None
    layout = headphone.Layout(quiet=trial.quiet_position, antiphase=trial.antiphase_position)
    return headphone.layout_mp3(layout)


@require_safe
def audio(request: HttpRequest, token: str) -> HttpResponse:
    """The sound streamed from storage (never read whole), or a headphone tone made here."""
    if "f" in request.GET and request.GET["f"] not in _FORMATS:
        raise Http404("No such sound")
    field_name, content_type = _FORMATS[request.GET.get("f")]
    stored = _trial_sound(token, field_name)
    if stored is not None:
        size, chunks = stored.size, stored.chunks
    elif (data := _headphone_bytes(token, field_name)) is not None:
        size, chunks = len(data), bytes_chunks(data)
    else:
        raise Http404("No such sound")
    response = ranged_response(request.headers.get("Range", ""), size, chunks, content_type)
    if response.status_code == 416 and stored is not None:
        stored.close()
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response
