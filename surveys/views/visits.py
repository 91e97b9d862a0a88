"""What every participant page shares: who the visitor is (a random token in a cookie), where
the flow says they belong, and the survey's rate limits.

Every page first asks the flow where the participant belongs and redirects there, so reloads,
the back button and return visits resume at the right step.
"""

import functools

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from surveys import flow
from surveys.models import Participant, Study
from surveys.queries import unique_or_none
from surveys.ratelimit import limit_posts

STEP_URLS = {
    flow.CONSENT: "surveys:consent",
    flow.HEADPHONES: "surveys:headphones",
    flow.INSTRUCTIONS: "surveys:instructions",
    flow.QUESTIONS: "surveys:questions",
    flow.DONE: "surveys:done",
    flow.SCREENED_OUT: "surveys:screened_out",
    flow.TIME_UP: "surveys:time_up",
}


def cookie_name(slug: str) -> str:
    return f"p_{slug}"


def _visitor(request: HttpRequest, slug: str) -> tuple[Study | None, Participant | None]:
    """The study and the cookie's participant, looked up once per request (the rate limits and
    the view both ask), in one query when the cookie names a participant of this study."""
    known = getattr(request, "_survey_visitor", None)
    if known is None or known[0] != slug:
        token = request.COOKIES.get(cookie_name(slug))
        participant = None
        if token:
            rows = Participant.objects.filter(study__slug=slug, token=token)
            participant = unique_or_none(rows.select_related("study"))
        if participant is not None:
            study = participant.study
        else:
            study = unique_or_none(Study.objects.filter(slug=slug))
        known = (slug, study, participant)
        request._survey_visitor = known
    return known[1], known[2]


def visit(request: HttpRequest, slug: str) -> tuple[Study, Participant | None]:
    """The study and the visitor's participant; a draft is a 404 to all but its previews."""
    study, participant = _visitor(request, slug)
    if study is None:
        raise Http404("No such study")
    if study.state == Study.State.DRAFT and not (participant and participant.preview):
        raise Http404("No such study")
    return study, participant


def page(
    request: HttpRequest, participant: Participant, template: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render a participant page; only a preview's pages carry the preview banner."""
    context = {**context, "preview": participant.preview}
    return render(request, template, context, status=status)


def _is_preview(request: HttpRequest, slug: str) -> bool:
    _, participant = _visitor(request, slug)
    return participant is not None and participant.preview


def limit_participant_posts(view):
    """The survey's rate limits for participants; a researcher's preview is not counted, so
    trying the study from a lab's shared address takes nothing from that address's allowance."""
    limited = limit_posts(view)

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.method == "POST" and _is_preview(request, kwargs.get("slug", "")):
            return view(request, *args, **kwargs)
        return limited(request, *args, **kwargs)

    return wrapped


def set_cookie(response: HttpResponse, participant: Participant) -> HttpResponse:
    response.set_cookie(
        cookie_name(participant.study.slug),
        participant.token,
        max_age=settings.SURVEY_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def step_url(participant: Participant) -> str:
    step, trial = flow.locate(participant)
    slug = participant.study.slug
    if step == flow.TRIAL:
        return reverse("surveys:trial", args=[slug, trial.position])
    return reverse(STEP_URLS[step], args=[slug])


def resume(participant: Participant) -> HttpResponse:
    return set_cookie(redirect(step_url(participant)), participant)


def require(request: HttpRequest, slug: str, step: str):
    """The participant, or a redirect to where they belong (the study link when unknown).

    A post from a participant whose place lapsed takes it again if the study has room; when
    it has none the redirect leads to the page that says their time is up.
    """
    _, participant = visit(request, slug)
    if participant is None:
        return None, redirect("surveys:entry", slug)
    if request.method == "POST" and participant.consented:
        flow.keep_place(participant)
    if flow.current_step(participant) != step:
        return None, redirect(step_url(participant))
    return participant, None
