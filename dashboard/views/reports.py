"""Researcher pages for a study's results: the report with its figures, and file downloads.

Thin shell: read the study into tables (evaluation.dataset), build the one Report
(evaluation.summary; evaluation.pair_summary for a pair study), render it. Every view needs a
login; nothing here is reachable by a participant.
"""

from __future__ import annotations

import csv
import io
import math
import statistics

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from dashboard.access import VIEW_PARTICIPANTS, needs
from dashboard.model_cards import model_card
from evaluation import exports, pair_summary, tidy
from evaluation.dataset import (
    MEMORISATION,
    UNREADABLE,
    answer_tables,
    counted_participants,
    exclusion_reasons,
    objective_metrics,
    pair_answer_tables,
    preregistered_d_prime_margin,
    preregistered_margin,
    preregistered_pair_margin,
)
from evaluation.equivalence import DEFAULT_ALPHA
from evaluation.pair_summary import PAIR_HAS_NO_D_PRIME, PairReport, build_pair_report
from evaluation.plots import report_figures
from evaluation.spreadsheet import safe_cell
from evaluation.summary import PASSES, PASSES_WITH_DIFFERENCE, Report, build_report, records
from generation.models import GenerationBatch
from surveys.exclusion import rules_in_words
from surveys.link_opens import openings
from surveys.models import Participant, Study, StudyStimulus
from surveys.questionnaire import EXPERIENCE_LEVELS

# The funnel's steps in plain words, for readers who never saw the column names.
FUNNEL_WORDS = {
    tidy.STARTED: "recorded (from consent on)",
    tidy.CONSENTED: "gave consent",
    tidy.HEADPHONE_PASSED: "passed the headphone check",
    tidy.COMPLETED: "completed the study (given the completion code)",
    tidy.ATTENTION_PASSED: "passed the attention checks (scored on completion)",
    "analysed": "analysed (kept by the exclusion rules)",
}


class BadParameter(ValueError):
    """A query parameter the report cannot use; the message says what is allowed."""


def _float_param(params: QueryDict, name: str, default: float, low: float, high: float) -> float:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a number, got {raw!r}") from None
    if not (low < value < high) or not math.isfinite(value):
        raise BadParameter(f"{name} must be between {low} and {high} (exclusive), got {value}")
    return value


def _pair_report(study: Study, params: QueryDict) -> PairReport:
    if params.get("d_prime_margin", "") != "":
        raise BadParameter(f"d_prime_margin: {PAIR_HAS_NO_D_PRIME}")
    planned = preregistered_pair_margin(study)
    margin = _float_param(params, "margin", planned, 0.0, 0.5)
    alpha = _float_param(params, "alpha", DEFAULT_ALPHA, 0.0, 0.5)
    frame, funnel = pair_answer_tables(study)
    return build_pair_report(
        frame,
        funnel,
        study=study.slug,
        margin=margin,
        alpha=alpha,
        experience_levels=[key for key, _ in EXPERIENCE_LEVELS],
        preregistered_margin=planned,
    )


def study_report(study: Study, params: QueryDict) -> Report | PairReport:
    """The study's report for the design it used, at the settings ``params`` ask for (the ones
    fixed when the study opened where they ask for none)."""
    if study.is_pair:
        return _pair_report(study, params)
    planned = preregistered_margin(study)
    planned_d_prime = preregistered_d_prime_margin(study)
    margin = _float_param(params, "margin", planned, 0.0, 0.5)
    d_prime_margin = _float_param(params, "d_prime_margin", planned_d_prime, 0.0, 3.0)
    alpha = _float_param(params, "alpha", DEFAULT_ALPHA, 0.0, 0.5)
    frame, funnel = answer_tables(study)
    return build_report(
        frame,
        funnel,
        study=study.slug,
        margin=margin,
        d_prime_margin=d_prime_margin,
        alpha=alpha,
        preregistered_margin=planned,
        preregistered_d_prime_margin=planned_d_prime,
    )


def _report(request: HttpRequest, slug: str) -> tuple[Study, Report | PairReport]:
    study = get_object_or_404(Study, slug=slug)
    return study, study_report(study, request.GET)


def _download(text: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _bad(error: BadParameter) -> HttpResponse:
    """A download's refusal, as plain text for the scripts that fetch downloads."""
    return HttpResponseBadRequest(f"{error}\n", content_type="text/plain")


def _headline(data: dict) -> dict:
    """The report's headline (summary.headline) with each model's rate and d' rows beside it."""
    sources = data["sources"]
    detection = {row["source"]: row for row in data["detection"]}
    human = next((row for row in sources if row["group"] == tidy.HUMAN), None)
    models = [row for row in sources if row["group"] != tidy.HUMAN]
    for row in models:
        row["passes"] = row["verdict"] in (PASSES, PASSES_WITH_DIFFERENCE)
        row["detection"] = detection.get(row["group"])
    return {**data["headline"], "human": human, "models": models}


def _label_batches(rows: list[dict]) -> None:
    """'roll_lstm / 4' names batch 4: say so, and link its dashboard page."""
    for row in rows:
        model, _, batch = str(row["group"]).rpartition(" / ")
        if model and batch.isdigit():
            row["label"] = f"{model}, batch {batch}"
            row["link"] = reverse("dashboard:batch", args=[int(batch)])


def _funnel_words(rows: list[dict]) -> None:
    for row in rows:
        row["words"] = FUNNEL_WORDS.get(row["step"], row["step"])


def _openings(study: Study) -> dict:
    """What the funnel's note counts beside it: link openings, screen-outs, and those who are
    still taking the study (not completed, their place still held), not yet dropped."""
    counted = counted_participants(study)
    return {
        "link_openings": openings(study),
        "screened_out": counted.filter(screened_out_at__isnull=False).count(),
        "in_progress": counted.filter(
            completed_at__isnull=True,
            screened_out_at__isnull=True,
            reserved_until__gt=timezone.now(),
        ).count(),
    }


def _design(study: Study) -> dict:
    """What a reader needs to know of how the study ran: the pool, the excerpts' length, and its
    rules in words (the rest the template reads off the study)."""
    pool = study.items.filter(role=StudyStimulus.Role.POOL)
    counts = pool.values_list("source").annotate(n=Count("id")).order_by("source")
    human = [("by people", n) for source, n in counts if source == tidy.HUMAN]
    models = [(f"by {source}", n) for source, n in counts if source != tidy.HUMAN]
    seconds = [d for d in pool.values_list("stimulus__duration_seconds", flat=True) if d]
    batches = GenerationBatch.objects.filter(pk__in=pool.values("batch")).select_related(
        "run__corpus", "generator"
    )
    return {
        "trials": study.trials_per_participant,
        "pool": human + models,
        "models": [model_card(batch) for batch in batches.order_by("pk")],
        "seconds": statistics.median(seconds) if seconds else None,
        "rules": rules_in_words(study.rules, study.attention_checks, study.is_pair),
    }


def _pair_page(study: Study, result: PairReport, query: str) -> tuple[str, dict]:
    data = result.to_dict()
    _funnel_words(data["funnel"])
    levels = dict(EXPERIENCE_LEVELS)
    for row in data["experience"]:
        row["words"] = levels.get(row["group"], row["group"])
    context = {
        "study": study,
        "report": result,
        "data": data,
        "margin_points": f"{result.margin * 100:g}",
        "planned_margin": preregistered_pair_margin(study),
        "query": query,
        "tables": pair_summary.TABLES,
        "design": _design(study),
        **_openings(study),
    }
    return "dashboard/pair_report.html", context


def report_page(study: Study, result: Report | PairReport, query: str = "") -> tuple[str, dict]:
    """The report page's template and context; ``query`` is the settings the page was asked
    with, carried into its download links."""
    if isinstance(result, PairReport):
        return _pair_page(study, result, query)
    data = result.to_dict()
    _label_batches(data["batches"])
    _funnel_words(data["funnel"])
    context = {
        "headline": _headline(data),
        "margin_points": f"{result.margin * 100:g}",
        "planned_margin": preregistered_margin(study),
        "planned_d_prime_margin": preregistered_d_prime_margin(study),
        "study": study,
        "report": result,
        "data": data,
        "figures": report_figures(result),
        "query": query,
        "tables": exports.TABLES,
        "design": _design(study),
        **_openings(study),
    }
    return "dashboard/report.html", context


@login_required
def report(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        study, result = _report(request, slug)
    except BadParameter as error:
        study = get_object_or_404(Study, slug=slug)
        context = {"study": study, "error": error}
        return render(request, "dashboard/report_refused.html", context, status=400)
    template, context = report_page(study, result, request.GET.urlencode())
    context["published"] = study.published_reports.all()
    return render(request, template, context)


@login_required
def report_json(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        study, result = _report(request, slug)
    except BadParameter as error:
        return _bad(error)
    return _download(exports.report_json(result), f"{study.slug}-report.json", "application/json")


@login_required
def table_csv(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    if name not in {*exports.TABLES, *pair_summary.TABLES}:
        raise Http404(f"no table {name!r}")
    try:
        study, result = _report(request, slug)
    except BadParameter as error:
        return _bad(error)
    pair = isinstance(result, PairReport)
    if name not in (pair_summary.TABLES if pair else exports.TABLES):
        raise Http404(f"no table {name!r} in a {study.design} study's report")
    text = pair_summary.table_csv(result, name) if pair else exports.table_csv(result, name)
    return _download(text, f"{study.slug}-{name}.csv", "text/csv; charset=utf-8")


@login_required
def answers_csv(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    if study.is_pair:
        text = pair_summary.pairs_csv(pair_answer_tables(study)[0])
    else:
        text = exports.tidy_csv(answer_tables(study)[0])
    return _download(text, f"{study.slug}-answers.csv", "text/csv; charset=utf-8")


# What a researcher needs to approve or reject submissions on Prolific: who took part under
# which ids, how far they got, and the code the site gave them.
PARTICIPANT_COLUMNS = (
    "participant",
    "prolific_pid",
    "prolific_study_id",
    "prolific_session_id",
    "consented_at",
    "headphone_passed",
    "screened_out_at",
    "completed_at",
    "code_given",
    "excluded",
    "exclusion_reason",
)


def _code_given(participant: Participant) -> str:
    if participant.completed_at:
        return "completion"
    return "screen-out" if participant.screened_out_at else ""


@needs(VIEW_PARTICIPANTS)
def participants_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """One row per participant (previews left out), ids and exclusions as in the answer table."""
    study = get_object_or_404(Study, slug=slug)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PARTICIPANT_COLUMNS)
    reasons = exclusion_reasons(study)
    for person in counted_participants(study).order_by("id"):
        row = [
            person.id,
            person.prolific_pid,
            person.prolific_study_id,
            person.prolific_session_id,
            _iso(person.consented_at),
            "" if person.headphone_passed is None else person.headphone_passed,
            _iso(person.screened_out_at),
            _iso(person.completed_at),
            _code_given(person),
            bool(reasons[person.id]),
            reasons[person.id],
        ]
        writer.writerow([safe_cell(value) for value in row])
    return _download(out.getvalue(), f"{study.slug}-participants.csv", "text/csv; charset=utf-8")


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


@login_required
def metrics(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    tables = {name: records(table) for name, table in objective_metrics(study).items()}
    compared = set(tables) - {MEMORISATION, UNREADABLE}
    context = {"study": study, "tables": tables, "compared": bool(compared)}
    return render(request, "dashboard/report_metrics.html", context)
