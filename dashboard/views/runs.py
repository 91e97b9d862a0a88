"""Training runs: list, launch (gpu queue), live progress and learning curves, stop, resume."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from dashboard.access import RUN_EXPERIMENTS, needs
from dashboard.charts import Series, line_chart
from dashboard.forms import TrainingRunForm
from dashboard.jobs import describe_row, enqueued, requeue_lost, requeue_orphaned, stop_job
from generation.models import TrainingRun
from generation.models.runs import Status
from generation.tasks.training import create_training_run, enqueue_training_run

# (title, metric) pairs drawn per epoch, train and valid on one chart each.
CURVES = (("Loss", "loss"), ("F1 (frames)", "f1"), ("NLL per step", "nll"))


def learning_curves(history: list[dict], best_epoch: int | None = None) -> list[str]:
    """One SVG per metric the run recorded, the best epoch (the checkpoint kept) marked; a
    metric no epoch has (F1 for tokens) is left out. The NLL chart draws the baselines too: a
    valid curve that never leaves the marginal one is a model that has not learned, and one that
    stays above the previous-step one has learned little beyond the step before."""
    mark = (best_epoch, "best") if best_epoch else None
    charts = []
    for title, metric in CURVES:
        series = [
            Series(split, [(e["epoch"], e.get(f"{split}_{metric}")) for e in history])
            for split in ("train", "valid")
        ]
        if metric == "nll" and any("baseline_nll" in e for e in history):
            baseline = [(e["epoch"], e.get("baseline_nll")) for e in history]
            series.append(Series("marginal baseline", baseline))
            if any("previous_step_nll" in e for e in history):
                previous = [(e["epoch"], e.get("previous_step_nll")) for e in history]
                series.append(Series("previous step alone", previous))
        if any(y is not None for s in series for _, y in s.points):
            charts.append(mark_safe(line_chart(title, series, mark=mark)))  # noqa: S308 - built from numbers
    return charts


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    runs = TrainingRun.objects.select_related("corpus")
    return render(
        request, "dashboard/runs.html", {"rows": [(run, describe_row(run)) for run in runs]}
    )


@needs(RUN_EXPERIMENTS)
def run_new(request: HttpRequest) -> HttpResponse:
    form = TrainingRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = create_training_run(
                form.cleaned_data["corpus"], form.config, form.cleaned_data["steps_per_beat"]
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            if enqueued(request, run, enqueue_training_run, "Run"):
                messages.success(request, f"Training run {run.pk} queued on the gpu queue.")
            return redirect("dashboard:run", pk=run.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/run_new.html", {"form": form}, status=status)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TrainingRun.objects.select_related("corpus"), pk=pk)
    context = {
        "run": run,
        "job": describe_row(run),
        "charts": learning_curves(run.history, run.best_epoch),
        "config": sorted(run.config.items()),
        "last_epoch": run.history[-1] if run.history else None,
        "batches": run.batches.all(),
        "progress_url": reverse("dashboard:run-progress", args=[run.pk]),
    }
    return render(request, "dashboard/run_detail.html", context)


@needs(RUN_EXPERIMENTS)
@require_POST
def run_stop(request: HttpRequest, pk: int) -> HttpResponse:
    """Ends the attempt now (the worker process running it is terminated); the checkpoint of the
    last finished epoch stays, so resume loses at most the epoch in progress."""
    run = get_object_or_404(TrainingRun, pk=pk)
    stop_job(request, run, "Run")
    return redirect("dashboard:run", pk=run.pk)


@needs(RUN_EXPERIMENTS)
@require_POST
def run_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Queues the run again; training restarts from its last checkpoint, not from scratch.
    A stopped or failed run resumes; so does a "running" one whose worker is gone (orphaned),
    and a queued one whose message the broker lost."""
    run = get_object_or_404(TrainingRun, pk=pk)
    if run.status == Status.PENDING:
        requeue_lost(request, run, "Run")
        return redirect("dashboard:run", pk=run.pk)
    if run.status == Status.RUNNING:
        if problem := requeue_orphaned(run):
            messages.error(request, f"Run {run.pk} was not restarted: {problem}.")
        elif enqueued(request, run, enqueue_training_run, "Run"):
            messages.success(
                request, f"Run {run.pk} restarted; it continues from its last checkpoint."
            )
        return redirect("dashboard:run", pk=run.pk)
    if run.status != Status.FAILED:
        messages.error(
            request, f"Run {run.pk} is {run.status}; only a stopped or failed run resumes."
        )
        return redirect("dashboard:run", pk=run.pk)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=Status.PENDING, error="", message="queued again", finished=None
    )
    if enqueued(request, run, enqueue_training_run, "Run"):
        messages.success(
            request, f"Run {run.pk} queued again; it resumes from its last checkpoint."
        )
    return redirect("dashboard:run", pk=run.pk)
