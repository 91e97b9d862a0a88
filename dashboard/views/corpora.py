"""Corpora: list, import a bundled corpus or uploaded MIDI (on the cpu queue), browse pieces."""

import secrets
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_POST

from dashboard.access import RUN_EXPERIMENTS, needs
from dashboard.forms import BundledImportForm, UploadImportForm
from dashboard.jobs import describe_task, remember_task, task_result
from generation.models import Corpus
from generation.tasks.importing import import_bundled_corpus, import_uploaded_files

PIECES_PER_PAGE = 50


def _list(request: HttpRequest, bundled=None, upload=None, status: int = 200) -> HttpResponse:
    corpora = Corpus.objects.annotate(n_pieces=Count("pieces")).order_by("slug")
    context = {
        "corpora": corpora,
        "bundled_form": bundled or BundledImportForm(),
        "upload_form": upload or UploadImportForm(),
    }
    return render(request, "dashboard/corpora.html", context, status=status)


@login_required
def corpus_list(request: HttpRequest) -> HttpResponse:
    return _list(request)


@needs(RUN_EXPERIMENTS)
@require_POST
def import_bundled(request: HttpRequest) -> HttpResponse:
    form = BundledImportForm(request.POST)
    if not form.is_valid():
        return _list(request, bundled=form, status=400)
    name, limit = form.cleaned_data["name"], form.cleaned_data["limit"]
    result = import_bundled_corpus.delay(name, limit)
    remember_task(result.id, f"import {name}" + (f" (at most {limit})" if limit else ""))
    messages.success(request, f"Import of {name} queued on the cpu queue.")
    return redirect("dashboard:task", task_id=result.id)


# How much of an uploaded file's name its stored copy keeps.
STORED_STEM = 100
STORED_SUFFIX = 10


def _store_uploads(files) -> list[str]:
    """Uploads go to the storage every worker reads, under a folder of their own; the task gets
    their storage names, each cut to a length every file system takes (a 250-character name
    was refused by the disk, a 500)."""
    folder = f"uploads/{secrets.token_hex(8)}"
    names = []
    for index, upload in enumerate(files):
        name = Path(get_valid_filename(Path(upload.name).name))
        short = f"{name.stem[:STORED_STEM]}{name.suffix[:STORED_SUFFIX]}"
        names.append(default_storage.save(f"{folder}/{index:04d}-{short}", upload))
    return names


@needs(RUN_EXPERIMENTS)
@require_POST
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list(request, upload=form, status=400)
    title = form.cleaned_data["title"]
    names = _store_uploads(form.cleaned_data["files"])
    result = import_uploaded_files.delay(title, names)
    remember_task(result.id, f"upload of {len(names)} file(s) into {title}")
    messages.success(request, f"Import of {len(names)} file(s) into {title!r} queued.")
    return redirect("dashboard:task", task_id=result.id)


@login_required
def corpus_detail(request: HttpRequest, slug: str) -> HttpResponse:
    corpus = get_object_or_404(Corpus, slug=slug)
    pieces = corpus.pieces.all()
    split = request.GET.get("split", "")
    if split:
        pieces = pieces.filter(split=split)
    page = Paginator(pieces, PIECES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"corpus": corpus, "counts": corpus.split_counts(), "page": page, "split": split}
    return render(request, "dashboard/corpus_detail.html", context)


@login_required
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    """A row-less job (import, render): its live progress, then what it reported."""
    job = describe_task(task_id)
    context = {
        "task_id": task_id,
        "job": job,
        "result": task_result(task_id) if job.state == "done" else None,
        "progress_url": reverse("dashboard:task-progress", args=[task_id]),
    }
    return render(request, "dashboard/task_detail.html", context)
