"""Generation batches: list, launch from a finished run's best checkpoint (gpu queue), samples,
a stop, and a restart for a batch whose worker is gone, that failed or was stopped (both POSTed
to the batch's page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dashboard.access import RUN_EXPERIMENTS, needs, posting_needs
from dashboard.forms import GenerationBatchForm
from dashboard.jobs import describe_row, enqueued, requeue_lost, requeue_orphaned, stop_job
from generation.memorisation import MEMORISED_BEATS, MEMORISED_NGRAM_SHARE, is_memorised
from generation.models import GenerationBatch, TrainingRun
from generation.models.runs import Status
from generation.tasks.sampling import create_generation_batch, enqueue_generation_batch

RESTART = "restart"
STOP = "stop"


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    batches = GenerationBatch.objects.select_related("run", "run__corpus", "corpus", "generator")
    rows = [(batch, describe_row(batch)) for batch in batches]
    return render(request, "dashboard/batches.html", {"rows": rows})


@needs(RUN_EXPERIMENTS)
def batch_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    if (run_id := request.GET.get("run", "")).isdigit():  # a link from a run's page
        initial["run"] = TrainingRun.objects.filter(pk=run_id).first()
    form = GenerationBatchForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = create_generation_batch(
                data["run"],
                n_pieces=data["n_pieces"],
                bars=data["bars"],
                seed_strategy=data["seed_strategy"],
                sampling_mode=data["sampling_mode"] or None,
                temperature=data["temperature"],
                threshold=data["threshold"],
                random_seed=data["random_seed"],
                beats_per_bar=data["beats_per_bar"],
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            if enqueued(request, batch, enqueue_generation_batch, "Batch"):
                messages.success(request, f"Generation batch {batch.pk} queued on the gpu queue.")
            return redirect("dashboard:batch", pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/batch_new.html", {"form": form}, status=status)


def memorised(sample) -> bool:
    return is_memorised(sample.longest_verbatim_beats, sample.ngram_share)


def batch_restart(request: HttpRequest, pk: int) -> HttpResponse:
    """Samples the batch again with the same seed (so the same pieces): for a batch whose worker
    is gone (orphaned), or one that failed. Any partial output is replaced, never doubled. A
    queued batch whose message the broker lost is queued again."""
    batch = get_object_or_404(GenerationBatch, pk=pk)
    if batch.status == Status.PENDING:
        requeue_lost(request, batch, "Batch")
        return redirect("dashboard:batch", pk=batch.pk)
    if batch.status == Status.RUNNING:
        problem = requeue_orphaned(batch)
    elif batch.status == Status.FAILED:
        GenerationBatch.objects.filter(pk=batch.pk, status=Status.FAILED).update(
            status=Status.PENDING, error="", message="queued again", finished=None
        )
        problem = ""
    else:
        problem = (
            f"it is {batch.status}; only a failed or stopped batch, or one whose worker is gone, "
            "restarts"
        )
    if problem:
        messages.error(request, f"Batch {batch.pk} was not restarted: {problem}.")
    elif enqueued(request, batch, enqueue_generation_batch, "Batch"):
        messages.success(request, f"Batch {batch.pk} queued again; same seed, same pieces.")
    return redirect("dashboard:batch", pk=batch.pk)


@posting_needs(RUN_EXPERIMENTS)
@require_http_methods(["GET", "POST"])
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        action = request.POST.get("action")
        if action == STOP:
            batch = get_object_or_404(GenerationBatch, pk=pk)
            stop_job(request, batch, "Batch")
            return redirect("dashboard:batch", pk=batch.pk)
        if action != RESTART:
            return HttpResponseBadRequest("unknown action; the actions are restart and stop")
        return batch_restart(request, pk)
    batch = get_object_or_404(
        GenerationBatch.objects.select_related("run", "run__corpus", "corpus", "generator"), pk=pk
    )
    samples = [(s, memorised(s)) for s in batch.samples.select_related("piece", "primer")]
    context = {
        "batch": batch,
        "job": describe_row(batch),
        "samples": samples,
        "n_flagged": sum(flag for _, flag in samples),
        "memorised_beats": MEMORISED_BEATS,
        "memorised_share": MEMORISED_NGRAM_SHARE,
        "progress_url": reverse("dashboard:batch-progress", args=[batch.pk]),
    }
    return render(request, "dashboard/batch_detail.html", context)
