"""Stimuli: what has been rendered, per source and state, and launching renders (cpu queue).

A render job fans out one task per piece; its progress is read from the Stimulus rows those
tasks write (one per piece and settings), so it survives worker restarts and needs no task state.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from audio.pipeline import StimulusSpec
from dashboard.access import RUN_EXPERIMENTS, posting_needs
from dashboard.forms import RenderForm
from dashboard.jobs import JobView, recent_tasks, remember_task
from generation.models import GenerationBatch
from surveys.models import Stimulus
from surveys.stored_responses import stored_file_response
from surveys.tasks.stimuli import pieces_to_render, render_stimuli

RECENT_STIMULI = 50


def describe_render(job: dict) -> JobView:
    rows = Stimulus.objects.filter(piece_id__in=job["pieces"], spec_hash=job["spec_hash"])
    counts = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
    total = len(job["pieces"])
    finished = sum(n for status, n in counts.items() if status != Stimulus.Status.PENDING)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    failed = counts.get(Stimulus.Status.FAILED, 0)
    if finished < total:
        state = "running" if counts else "queued"
        return JobView(state, round(100.0 * finished / total, 1), None, summary)
    errors = list(rows.exclude(error="").values_list("error", flat=True)[:3])
    if failed:
        return JobView("failed", 100.0, None, summary, f"{failed} failed: " + "; ".join(errors))
    return JobView("done", 100.0, None, summary)


def unlearned_batches() -> list[GenerationBatch]:
    """Batches with excerpts whose run sits at its marginal baseline: the page says so, so a
    study of them is not mistaken for a test of a model that learned."""
    batches = (
        GenerationBatch.objects.filter(
            corpus__pieces__stimuli__isnull=False, run__status="succeeded"
        )
        .select_related("run")
        .distinct()
    )
    return [batch for batch in batches if batch.not_learned]


def render_jobs() -> list[dict]:
    return [task for task in recent_tasks() if task.get("kind") == "render"]


@posting_needs(RUN_EXPERIMENTS)
def stimulus_list(request: HttpRequest) -> HttpResponse:
    form = RenderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = StimulusSpec.from_dict({"excerpt": {"bars": data["bars"]}}).as_dict()
        batch, corpus = data["batch"], data["corpus"]
        pieces = list(
            pieces_to_render(
                batch.pk if batch else None,
                corpus.slug if corpus else None,
                data["split"] or None,
                data["n"],
            ).values_list("pk", flat=True)
        )
        if pieces:
            result = render_stimuli.delay(pieces, params)
            label = f"render batch {batch.pk}" if batch else f"render {corpus.slug} {data['split']}"
            remember_task(
                result.id,
                f"{label} ({len(pieces)} pieces, {data['bars']} bars)",
                link=reverse("dashboard:stimuli"),
                kind="render",
                pieces=pieces,
                spec_hash=StimulusSpec.from_dict(params).fingerprint(),
            )
            messages.success(request, f"Rendering of {len(pieces)} pieces queued (cpu queue).")
            return redirect("dashboard:stimuli")
        form.add_error(None, "There are no pieces to render there.")
    counts = (
        Stimulus.objects.values("source_kind", "source_label", "status")
        .annotate(n=Count("id"))
        .order_by("source_kind", "source_label", "status")
    )
    context = {
        "form": form,
        "counts": counts,
        "jobs": [(job, describe_render(job)) for job in render_jobs()],
        "stimuli": Stimulus.objects.select_related("piece", "piece__corpus")[:RECENT_STIMULI],
        "unlearned": unlearned_batches(),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/stimuli.html", context, status=status)


@login_required
def render_progress(request: HttpRequest, task_id: str) -> JsonResponse:
    job = next((job for job in render_jobs() if job["id"] == task_id), None)
    if job is None:
        return JsonResponse({"error": "no such render job"}, status=404)
    return JsonResponse(describe_render(job).as_dict())


@login_required
def stimulus_audio(request: HttpRequest, pk: int) -> HttpResponse:
    """The excerpt exactly as participants hear it, for the researcher to check."""
    stimulus = get_object_or_404(Stimulus, pk=pk, status=Stimulus.Status.READY)
    return stored_file_response(request, stimulus.audio_mp3.name, "audio/mpeg")
