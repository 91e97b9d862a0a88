"""Importing an external generator's MIDI as a machine source, in the request itself.

The import is all or nothing and takes seconds (reading the files, then screening them against
the imitated corpus), so the researcher sees at once either every bad file named, with nothing
stored, or the new batch's page with each piece's memorisation screen.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dashboard.forms import ExternalGeneratorForm
from generation.corpora import SourcePiece, iter_zip
from generation.external import GeneratorInfo, ImportRefused, import_generated
from generation.memorisation import is_memorised


def _sources(uploads) -> list[SourcePiece]:
    sources = []
    for upload in uploads:
        data = upload.read()
        if upload.name.lower().endswith(".zip"):
            sources.extend(iter_zip(data, upload.name))
        else:
            sources.append(SourcePiece(upload.name, upload.name, data))
    return sources


@login_required
@require_http_methods(["GET", "POST"])
def generator_import(request: HttpRequest) -> HttpResponse:
    form = ExternalGeneratorForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        corpus = data["corpus"].slug
        info = GeneratorInfo(data["name"], data["version"], data["description"], corpus)
        try:
            batch = import_generated(info, _sources(data["files"]))
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
