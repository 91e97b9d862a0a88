"""The small JSON the progress script polls: one job's state, percent, ETA and error."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from dashboard.jobs import describe_row, describe_task
from generation.models import GenerationBatch, TrainingRun

ROW_KINDS = {"run": TrainingRun, "batch": GenerationBatch}


@login_required
def row_progress(request: HttpRequest, kind: str, pk: int) -> JsonResponse:
    row = get_object_or_404(ROW_KINDS[kind], pk=pk)
    return JsonResponse(describe_row(row).as_dict())


@login_required
def task_progress(request: HttpRequest, task_id: str) -> JsonResponse:
    return JsonResponse(describe_task(task_id).as_dict())
