"""Dashboard home: are the queues served, what ran lately, and where each study's report is."""

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.jobs import JobView, describe_row, describe_task, recent_tasks
from dashboard.views.stimuli import describe_render
from generation.models import Corpus, GenerationBatch, TrainingRun
from surveys.models import Stimulus, Study
from worker.status import broker_status

STATUS_CACHE_SECONDS = 5


def _broker_status():
    """Asking every worker takes up to a second: share one answer between page loads."""
    status = cache.get("dashboard:broker-status")
    if status is None:
        status = broker_status()
        cache.set("dashboard:broker-status", status, STATUS_CACHE_SECONDS)
    return status


def describe_entry(task: dict) -> JobView:
    return describe_render(task) if task.get("kind") == "render" else describe_task(task["id"])


@login_required
def home(request: HttpRequest) -> HttpResponse:
    runs = list(TrainingRun.objects.select_related("corpus")[:5])
    batches = list(GenerationBatch.objects.select_related("run", "generator")[:5])
    tasks = recent_tasks()[:8]
    context = {
        "broker": _broker_status(),
        "runs": [(run, describe_row(run)) for run in runs],
        "batches": [(batch, describe_row(batch)) for batch in batches],
        "tasks": [(task, describe_entry(task)) for task in tasks],
        "n_corpora": Corpus.objects.count(),
        "n_stimuli": Stimulus.objects.filter(status=Stimulus.Status.READY).count(),
        "studies": list(Study.objects.all()[:5]),
    }
    return render(request, "dashboard/home.html", context)
