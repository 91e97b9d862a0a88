"""One piece (human or generated): its piano roll, its MIDI, and a preview rendered on demand.

Everything here is behind the researcher login; files are streamed by these views, never linked
by their storage path.
"""

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from audio.previews import preview_mp3
from audio.synth import SoundfontError
from dashboard.charts import piano_roll
from generation.midi_files import MidiError, note_spans
from generation.models import Piece
from surveys.stored_responses import stored_file_response


def _preview_name(piece: Piece) -> str:
    """A storage name derived with the secret key, so a preview's name reveals nothing."""
    digest = hmac.new(settings.SECRET_KEY.encode(), piece.content_hash.encode(), hashlib.sha256)
    return f"previews/{digest.hexdigest()[:32]}.mp3"


@login_required
def piece_detail(request: HttpRequest, pk: int) -> HttpResponse:
    piece = get_object_or_404(Piece.objects.select_related("corpus"), pk=pk)
    try:
        roll = mark_safe(piano_roll(note_spans(piece.load_midi()), title=str(piece)))  # noqa: S308
        error = ""
    except (OSError, ValueError, MidiError) as exc:
        roll, error = "", f"the MIDI file cannot be read ({exc})"
    context = {
        "piece": piece,
        "roll": roll,
        "error": error,
        "samples": piece.generations.select_related("batch"),
        "stimuli": piece.stimuli.all(),
    }
    return render(request, "dashboard/piece_detail.html", context)


@login_required
def piece_midi(request: HttpRequest, pk: int) -> HttpResponse:
    piece = get_object_or_404(Piece, pk=pk)
    return stored_file_response(
        request, piece.midi.name, "audio/midi", download_as=f"piece-{piece.pk}.mid"
    )


@login_required
def piece_audio(request: HttpRequest, pk: int) -> HttpResponse:
    """Renders the preview the first time it is asked for, then serves the stored file."""
    piece = get_object_or_404(Piece, pk=pk)
    name = _preview_name(piece)
    if not default_storage.exists(name):
        try:
            data = preview_mp3(piece.load_midi(), str(settings.SOUNDFONT))
        except (SoundfontError, MidiError, OSError) as exc:
            return HttpResponse(
                f"this piece cannot be rendered: {exc}", status=503, content_type="text/plain"
            )
        # Two requests rendering at once may store two copies; each serves the one it stored.
        name = default_storage.save(name, ContentFile(data))
    return stored_file_response(request, name, "audio/mpeg")
