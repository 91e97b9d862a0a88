"""Importing an external generator's MIDI as a machine source, in the request itself.

The import is all or nothing and takes seconds (reading the imitated corpus, about 11 s for the
348 Bach chorales here, then about 0.13 s a file to screen), so the researcher sees at once
either every bad file named, with nothing stored, or the new batch's page with each piece's
memorisation screen. Past MAX_FILES the request could outlast the web server's timeout, so such
an upload is sent to the command, which has no limit.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dashboard.access import RUN_EXPERIMENTS, needs
from dashboard.forms import ExternalGeneratorForm
from generation.corpora import SourcePiece, iter_zip
from generation.external import GeneratorInfo, ImportRefused, import_generated
from generation.memorisation import is_memorised

MAX_FILES = 200


def _sources(uploads) -> list[SourcePiece]:
    sources = []
    for upload in uploads:
        data = upload.read()
        if upload.name.lower().endswith(".zip"):
            sources.extend(iter_zip(data, upload.name))
        else:
            sources.append(SourcePiece(upload.name, upload.name, data))
    return sources


@needs(RUN_EXPERIMENTS)
@require_http_methods(["GET", "POST"])
def generator_import(request: HttpRequest) -> HttpResponse:
    form = ExternalGeneratorForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        corpus = data["corpus"].slug
        info = GeneratorInfo(data["name"], data["version"], data["description"], corpus)
        sources = _sources(data["files"])
        try:
            if len(sources) > MAX_FILES:
                raise ImportRefused(
                    f"nothing was imported: {len(sources)} files are more than this page "
                    f"imports at once ({MAX_FILES}); use python manage.py import_generated"
                )
            batch = import_generated(info, sources)
        except ImportRefused as exc:
            form.add_error(None, str(exc))
        else:
            samples = list(batch.samples.all())
            flagged = sum(is_memorised(s.longest_verbatim_beats, s.ngram_share) for s in samples)
            messages.success(
                request,
                f"{len(samples)} pieces imported from {batch.model_label} as batch {batch.pk}; "
                f"{flagged} flagged as copies of {info.corpus} and kept out of studies.",
            )
            return redirect("dashboard:batch", pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/generator_import.html", {"form": form}, status=status)
