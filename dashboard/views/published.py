"""Publishing a study's report for readers without an account, and the public pages that serve it.

A researcher publishes from the report page: the report is built at the settings the study fixed
when it opened (whatever the page was recomputed with), rendered without the researcher's
controls and links, and kept (surveys.models.PublishedReport). Anyone with the link reads it at
/results/<token>/, with its JSON beside it; nothing else on the site opens to them. Withdrawing
makes the link answer 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard.access import RUN_EXPERIMENTS, needs
from dashboard.views.reports import report_page, study_report
from evaluation import exports
from surveys.models import PublishedReport, Study

# The report's sections, without the page around them: a snapshot is shown inside the public page.
SECTIONS_ONLY = "dashboard/report_sections_only.html"


@require_POST
@needs(RUN_EXPERIMENTS)
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    """A new copy, unless it would say nothing (no analysed participant) or nothing new (the live
    copy already holds this very report): a reader's link should not multiply for nothing."""
    study = get_object_or_404(Study, slug=slug)
    result = study_report(study, QueryDict())
    participants = result.totals.get("participants_analysed", 0)
    if not participants:
        messages.error(request, "Nothing was published: no participant's answers are analysed yet.")
        return redirect("evaluation:report", slug)
    report_json = exports.report_json(result)
    live = study.published_reports.filter(withdrawn_at__isnull=True)
    if same := live.filter(report_json=report_json).first():
        link = request.build_absolute_uri(same.get_absolute_url())
        messages.info(request, f"Already published: no answer has changed the report since. {link}")
        return redirect("evaluation:report", slug)
    template, context = report_page(study, result)
    body = render_to_string(template, {**context, "snapshot": True, "frame": SECTIONS_ONLY})
    published = PublishedReport.objects.create(
        study=study,
        published_by=request.user,
        participants=participants,
        body=body,
        report_json=report_json,
    )
    link = request.build_absolute_uri(published.get_absolute_url())
    messages.success(request, f"Published. Anyone with this link can read the report: {link}")
    return redirect("evaluation:report", slug)


@require_POST
@needs(RUN_EXPERIMENTS)
def withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    published = get_object_or_404(PublishedReport, pk=pk, study__slug=slug)
    if published.withdrawn_at is None:
        published.withdrawn_at = timezone.now()
        published.save(update_fields=["withdrawn_at"])
        messages.success(request, "Withdrawn: its link now finds nothing.")
    return redirect("evaluation:report", slug)


def _live(token: str) -> PublishedReport:
    published = PublishedReport.objects.select_related("study").filter(token=token).first()
    if published is None or published.withdrawn_at is not None:
        raise Http404("no published report at this address")
    return published


def _unlisted(response: HttpResponse) -> HttpResponse:
    """Readers come by the link; search engines are asked not to list it."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def results(request: HttpRequest, token: str) -> HttpResponse:
    published = _live(token)
    return _unlisted(render(request, "dashboard/published_report.html", {"published": published}))


def results_json(request: HttpRequest, token: str) -> HttpResponse:
    published = _live(token)
    response = HttpResponse(published.report_json, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{published.study.slug}-report.json"'
    return _unlisted(response)
