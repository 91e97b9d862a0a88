"""The participant's pages: consent, headphone check, instructions, trials, questionnaire, code.

Participants are anonymous: a random token in a cookie (and a resume link) identifies them.
Every page first asks the flow where the participant belongs and redirects there, so reloads,
the back button and return visits resume at the right step. Pages carry nothing about sources:
a trial page knows only its position and a per-trial random audio address.

A preview (a researcher's trial run, started from the dashboard) walks the same pages with one
banner added; a draft study's pages exist for its previews only, and a preview ends on the
completion page rather than the redirect, so it never reaches Prolific.
"""

import functools

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from surveys import flow
from surveys.forms import AnswerForm, ConsentForm, HeadphoneForm, QuestionnaireForm
from surveys.models import Answer, Participant, Study, Trial
from surveys.questionnaire import training_score
from surveys.ratelimit import limit_posts
from surveys.views.audio import offers_ogg

PROLIFIC_PARAMS = {
    "PROLIFIC_PID": "prolific_pid",
    "STUDY_ID": "prolific_study_id",
    "SESSION_ID": "prolific_session_id",
}
STEP_URLS = {
    flow.CONSENT: "surveys:consent",
    flow.HEADPHONES: "surveys:headphones",
    flow.INSTRUCTIONS: "surveys:instructions",
    flow.QUESTIONS: "surveys:questions",
    flow.DONE: "surveys:done",
}
SAVE_ATTEMPTS = 5


def cookie_name(slug: str) -> str:
    return f"p_{slug}"


def _participant(request: HttpRequest, study: Study) -> Participant | None:
    token = request.COOKIES.get(cookie_name(study.slug))
    if not token:
        return None
    return Participant.objects.filter(study=study, token=token).select_related("study").first()


def _visit(request: HttpRequest, slug: str) -> tuple[Study, Participant | None]:
    """The study and the visitor's participant; a draft is a 404 to all but its previews."""
    study = get_object_or_404(Study, slug=slug)
    participant = _participant(request, study)
    if study.state == Study.State.DRAFT and not (participant and participant.preview):
        raise Http404("No such study")
    return study, participant


def _page(
    request: HttpRequest, participant: Participant, template: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render a participant page; only a preview's pages carry the preview banner."""
    context = {**context, "preview": participant.preview}
    return render(request, template, context, status=status)


def _is_preview(request: HttpRequest, slug: str) -> bool:
    token = request.COOKIES.get(cookie_name(slug))
    return (
        bool(token)
        and Participant.objects.filter(study__slug=slug, token=token, preview=True).exists()
    )


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


def _set_cookie(response: HttpResponse, participant: Participant) -> HttpResponse:
    response.set_cookie(
        cookie_name(participant.study.slug),
        participant.token,
        max_age=settings.SURVEY_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _step_url(participant: Participant) -> str:
    step = flow.current_step(participant)
    slug = participant.study.slug
    if step == flow.TRIAL:
        return reverse("surveys:trial", args=[slug, flow.next_trial(participant).position])
    return reverse(STEP_URLS[step], args=[slug])


def _resume(participant: Participant) -> HttpResponse:
    return _set_cookie(redirect(_step_url(participant)), participant)


def _require(request: HttpRequest, slug: str, step: str):
    """The participant, or a redirect to where they belong (the entry page when unknown)."""
    _, participant = _visit(request, slug)
    if participant is None:
        return None, redirect("surveys:entry", slug)
    Participant.objects.filter(pk=participant.pk).update(last_seen_at=timezone.now())
    if flow.current_step(participant) != step:
        return None, redirect(_step_url(participant))
    return participant, None


@never_cache
@limit_participant_posts
def entry(request: HttpRequest, slug: str) -> HttpResponse:
    """The study link: resume a known participant, else start a new one if the study accepts.

    A browser holding a preview resumes that preview: the researcher who tried the study and
    then follows its public link is not turned into a counted participant.
    """
    study, participant = _visit(request, slug)
    pid = request.GET.get("PROLIFIC_PID", "")[:64]
    if participant is None and pid:
        participant = study.participants.filter(prolific_pid=pid, preview=False).first()
    if participant is not None:
        return _resume(participant)
    if not study.accepting():
        return render(request, "surveys/closed.html", {"study": study, "full": study.is_full()})
    fields = {field: request.GET.get(param, "")[:64] for param, field in PROLIFIC_PARAMS.items()}
    return _resume(Participant.objects.create(study=study, **fields))


def start_preview(study: Study) -> HttpResponse:
    """A new preview session of the study (the caller has checked the researcher may start one):
    its cookie replaces any earlier session of this study in the browser, and it begins at
    consent."""
    return _resume(Participant.objects.create(study=study, preview=True))


@never_cache
def resume(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    participant = Participant.objects.filter(study__slug=slug, token=token).first()
    if participant is None:
        raise Http404("No such participant")
    return _resume(participant)


@never_cache
@limit_participant_posts
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = _require(request, slug, flow.CONSENT)
    if elsewhere:
        return elsewhere
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        flow.consent(participant)
        return redirect(_step_url(participant))
    context = {"study": participant.study, "form": form}
    return _page(request, participant, "surveys/consent.html", context)


@never_cache
@limit_participant_posts
def headphones(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = _require(request, slug, flow.HEADPHONES)
    if elsewhere:
        return elsewhere
    trial = flow.next_headphone_trial(participant)
    form = HeadphoneForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        flow.answer_headphone(trial, form.cleaned_data["response"])
        participant.refresh_from_db()
        return redirect(_step_url(participant))
    context = {
        "study": participant.study,
        "trial": trial,
        "form": form,
        "total": participant.headphone_trials.count(),
        "audio_url": reverse("surveys:audio", args=[trial.audio_token]),
    }
    return _page(request, participant, "surveys/headphones.html", context)


@never_cache
@limit_participant_posts
def instructions(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = _require(request, slug, flow.INSTRUCTIONS)
    if elsewhere:
        return elsewhere
    if request.method == "POST":
        flow.assign_trials(participant)
        return redirect(_step_url(participant))
    resume_url = request.build_absolute_uri(
        reverse("surveys:resume", args=[slug, participant.token])
    )
    context = {"study": participant.study, "resume_url": resume_url}
    return _page(request, participant, "surveys/instructions.html", context)


def _correct(trial: Trial, judged_human: bool) -> bool | None:
    if trial.kind == Trial.Kind.EXPERIMENTAL:
        return judged_human == (trial.item.source_kind == "human")
    if trial.kind == Trial.Kind.ATTENTION:
        return judged_human == trial.attention_clip.expected_judged_human
    return None


def save_answer(trial: Trial, form: AnswerForm) -> Answer:
    """Store the answer unless one exists; the first answer wins and is never replaced.

    The one-to-one key makes the database the arbiter between simultaneous posts; a busy
    database (SQLite under concurrent writers) is retried rather than losing the answer.
    """
    data = form.cleaned_data
    for attempt in range(SAVE_ATTEMPTS):
        existing = Answer.objects.filter(trial=trial).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return Answer.objects.create(
                    trial=trial,
                    participant_id=trial.participant_id,
                    judged_human=form.judged_human,
                    confidence=data["confidence"],
                    musicality=data["musicality"],
                    correct=_correct(trial, form.judged_human),
                    response_ms=data["response_ms"] or 0,
                    listening_ms=data["listening_ms"] or 0,
                    plays=data["plays"] or 0,
                    request_id=data["request_id"] or "",
                )
        except IntegrityError:
            continue
        except OperationalError:
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    return Answer.objects.get(trial=trial)


def _is_next(participant: Participant, current: Trial) -> bool:
    if flow.current_step(participant) != flow.TRIAL:
        return False
    return flow.next_trial(participant).pk == current.pk


@never_cache
@limit_participant_posts
def trial(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    study, participant = _visit(request, slug)
    if participant is None:
        return redirect("surveys:entry", slug)
    current = (
        participant.trials.filter(position=position)
        .select_related("item", "attention_clip")
        .first()
    )
    if current is None:
        return redirect(_step_url(participant))
    if request.method == "POST":
        answered = Answer.objects.filter(trial=current).exists()
        if not answered and not _is_next(participant, current):
            return redirect(_step_url(participant))
        form = AnswerForm(request.POST)
        if form.is_valid():
            save_answer(current, form)
            return redirect(_step_url(participant))
    else:
        if not _is_next(participant, current):
            return redirect(_step_url(participant))
        form = AnswerForm()
        if current.first_shown_at is None:
            Trial.objects.filter(pk=current.pk).update(first_shown_at=timezone.now())
    counted = participant.trials.exclude(kind=Trial.Kind.PRACTICE)
    context = {
        "study": study,
        "form": form,
        "practice": current.kind == Trial.Kind.PRACTICE,
        "number": counted.filter(position__lte=position).count(),
        "total": counted.count(),
        "audio_url": reverse("surveys:audio", args=[current.audio_token]),
        "offer_ogg": offers_ogg(study),
        "action": reverse("surveys:trial", args=[slug, position]),
    }
    status = 400 if form.errors else 200
    return _page(request, participant, "surveys/trial.html", context, status=status)


@never_cache
@limit_participant_posts
def questions(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = _require(request, slug, flow.QUESTIONS)
    if elsewhere:
        return elsewhere
    form = QuestionnaireForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        answers = form.gold_msi_answers()
        participant.age_band = form.cleaned_data["age_band"]
        participant.musical_training_years = form.cleaned_data["musical_training_years"]
        participant.gold_msi_answers = answers
        participant.gold_msi_training = training_score(answers)
        participant.questionnaire_at = timezone.now()
        participant.save()
        flow.complete(participant)
        return redirect("surveys:done", slug)
    context = {"study": participant.study, "form": form}
    return _page(request, participant, "surveys/questions.html", context)


@never_cache
def done(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = _require(request, slug, flow.DONE)
    if elsewhere:
        return elsewhere
    study = participant.study
    url = study.completion_url.replace("{code}", study.completion_code)
    context = {
        "study": study,
        "code": study.completion_code,
        # A preview shows where participants would be sent, but offers no link to follow there.
        "completion_url": "" if participant.preview else url,
        "preview_redirect": url if participant.preview else "",
    }
    return _page(request, participant, "surveys/done.html", context)
