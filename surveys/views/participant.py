"""The participant's pages after consent: headphone check, instructions, trials, questionnaire,
and the ends (the completion code, a screen-out, a time limit that ran out).

Participants are anonymous: a random token in a cookie (and a resume link) identifies them.
Pages carry nothing about sources: a trial page knows only its position and a per-trial random
audio address.

A preview (a researcher's trial run, started from the dashboard) walks the same pages with one
banner added; a draft study's pages exist for its previews only, and a preview ends on the
completion or screen-out page rather than the redirect, so it never reaches Prolific.
"""

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from surveys import flow, headphone
from surveys.forms import AnswerForm, HeadphoneForm, PairAnswerForm, QuestionnaireForm
from surveys.models import Answer, HeadphoneTrial, Participant, Trial
from surveys.queries import unique_or_none
from surveys.questionnaire import training_score
from surveys.views.audio import offers_ogg
from surveys.views.visits import limit_participant_posts, page, require, step_url, visit

SAVE_ATTEMPTS = 5
# What the questionnaire writes on the participant's row: those fields alone, so a place taken
# again or a screening outcome stored since the row was read is never written back over.
QUESTIONNAIRE_FIELDS = [
    "music_experience",
    "age_band",
    "musical_training_years",
    "gold_msi_answers",
    "gold_msi_training",
    "questionnaire_at",
]
LISTEN_FIRST = "Please listen to the whole excerpt before answering. Your choices are kept."
LISTEN_BOTH = "Please listen to both excerpts to the end before answering. Your choices are kept."
LISTEN_TONES = "Please listen to all three tones before answering. Your choice is kept."
ANSWERED_ELSEWHERE = (
    "You had already answered that excerpt, perhaps in another window or tab. Your first answer "
    "is kept, and the study goes on from here."
)
# What an answer is scored against: the excerpts' sources and lengths, or the attention clip's
# length and expected answer.
SCORED_AGAINST = (
    "item__source_kind",
    "item__stimulus__duration_seconds",
    "item_b__source_kind",
    "item_b__stimulus__duration_seconds",
    "attention_clip__duration_seconds",
    "attention_clip__expected_judged_human",
    "attention_clip__expected_choice",
)


@never_cache
@limit_participant_posts
def headphones(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = require(request, slug, flow.HEADPHONES)
    if elsewhere:
        return elsewhere
    trial = flow.next_headphone_trial(participant)
    form = HeadphoneForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        if _heard(trial, headphone.TRIPLET_SECONDS):
            answered = flow.answer_headphone(trial, form.cleaned_data["response"])
            answered.study = participant.study  # read with the visit; where next asks it
            return redirect(step_url(answered))
        refusal = LISTEN_TONES
    elif trial.first_shown_at is None:
        _shown(trial)
    context = {
        "study": participant.study,
        "trial": trial,
        "form": form,
        "refusal": refusal,
        "total": participant.study.headphone_trials,
        "audio_url": reverse("surveys:audio", args=[trial.audio_token]),
    }
    status = 400 if refusal else 200
    return page(request, participant, "surveys/headphones.html", context, status=status)


@never_cache
@limit_participant_posts
def instructions(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = require(request, slug, flow.INSTRUCTIONS)
    if elsewhere:
        return elsewhere
    if request.method == "POST":
        flow.assign_trials(participant)
        # The row now says the instructions are read; without this the redirect came back here.
        participant.refresh_from_db(fields=["trials_assigned_at", "instructions_read_at"])
        return redirect(step_url(participant))
    resume_url = request.build_absolute_uri(
        reverse("surveys:resume", args=[slug, participant.token])
    )
    context = {"study": participant.study, "resume_url": resume_url}
    return page(request, participant, "surveys/instructions.html", context)


def _correct(trial: Trial, judged_human: bool) -> bool | None:
    if trial.kind == Trial.Kind.EXPERIMENTAL:
        return judged_human == (trial.item.source_kind == "human")
    if trial.kind == Trial.Kind.ATTENTION:
        return judged_human == trial.attention_clip.expected_judged_human
    return None


def _answer_fields(trial: Trial, form: AnswerForm | PairAnswerForm) -> dict:
    """What the form says, in the answer's fields, with whether it is right (null in practice)."""
    data = form.cleaned_data
    if isinstance(form, PairAnswerForm):
        right = trial.human_choice() == data["choice"]
        return {
            "choice": data["choice"],
            "judged_human": None,
            "musicality": None,
            "correct": None if trial.kind == Trial.Kind.PRACTICE else right,
        }
    return {
        "judged_human": form.judged_human,
        "musicality": data["musicality"],
        "correct": _correct(trial, form.judged_human),
    }


def save_answer(trial: Trial, form: AnswerForm | PairAnswerForm) -> Answer:
    """Store the answer unless one exists; the first answer wins and is never replaced.

    The one-to-one key makes the database the arbiter between simultaneous posts: the insert is
    tried first, and the answer already stored returned when it is refused. A busy database
    (SQLite under concurrent writers) is retried rather than losing the answer.
    """
    data = form.cleaned_data
    for attempt in range(SAVE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Answer.objects.create(
                    trial=trial,
                    participant_id=trial.participant_id,
                    confidence=data["confidence"],
                    **_answer_fields(trial, form),
                    response_ms=data["response_ms"] or 0,
                    listening_ms=data["listening_ms"] or 0,
                    plays=data["plays"] or 0,
                    request_id=data["request_id"] or "",
                )
        except IntegrityError:
            existing = Answer.objects.filter(trial=trial).first()
            if existing is not None:
                return existing
        except OperationalError:
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    return Answer.objects.get(trial=trial)


def _sound_seconds(trial: Trial) -> float:
    """How long the trial's sound lasts: both excerpts of a pair, one after the other."""
    if trial.attention_clip_id:
        seconds = trial.attention_clip.duration_seconds or 0.0
        return 2 * seconds if trial.is_pair else seconds
    seconds = trial.item.stimulus.duration_seconds or 0.0
    if trial.is_pair:
        seconds += trial.item_b.stimulus.duration_seconds or 0.0
    return seconds


def _shown(row: Trial | HeadphoneTrial) -> None:
    """Stamp when a trial's or sound check's page was first shown; later showings keep it."""
    type(row).objects.filter(pk=row.pk, first_shown_at__isnull=True).update(
        first_shown_at=timezone.now()
    )


def _heard(row: Trial | HeadphoneTrial, seconds: float) -> bool:
    """Whether an answer now comes late enough after the page was first shown to follow a sound
    `seconds` long. The browser also keeps the answers locked until the sound ends; this holds
    for a script as well. A page answered before it was ever shown counts as shown now."""
    if row.first_shown_at is None:
        _shown(row)
        return False
    allowance = settings.SURVEY_LISTEN_ALLOWANCE_MS / 1000
    return flow.listened_enough(row.first_shown_at, timezone.now(), seconds, allowance)


def _tell_if_answered_elsewhere(request: HttpRequest, participant: Participant, position: int):
    """A second answer to a trial answered already is dropped, the first one standing. The same
    answer sent again (the page's retry after a lost reply carries its request id) is taken in
    silence; a different one came from another tab or window, and the participant is told."""
    stored = unique_or_none(
        Answer.objects.filter(participant=participant, trial__position=position).values_list(
            "request_id", flat=True
        )
    )
    if stored is not None and request.POST.get("request_id", "") != stored:
        messages.info(request, ANSWERED_ELSEWHERE)


@never_cache
@limit_participant_posts
def trial(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    study, participant = visit(request, slug)
    if participant is None:
        return redirect("surveys:entry", slug)
    refusal = ""
    if request.method == "POST":
        # An answer to the next trial in order is stored even when the participant's place has
        # lapsed meanwhile: they are told afterwards, and what they answered is never lost. A
        # trial answered already (a retry, a double click: every trial before the next one)
        # keeps its first answer, and the participant goes on.
        # The trial after it comes along, to redirect to without asking again.
        current, *following = flow.upcoming_trials(participant, 2, SCORED_AGAINST) or [None]
        if current is None or current.position != position:
            if current is None or position < current.position:
                flow.keep_place(participant)
                _tell_if_answered_elsewhere(request, participant, position)
            return redirect(step_url(participant))
        form = (PairAnswerForm if current.is_pair else AnswerForm)(request.POST)
        if form.is_valid() and _heard(current, _sound_seconds(current)):
            save_answer(current, form)
            if flow.keep_place(participant) and following:
                return redirect("surveys:trial", slug, following[0].position)
            return redirect(step_url(participant))
        if form.is_valid():
            refusal = LISTEN_BOTH if current.is_pair else LISTEN_FIRST
    else:
        step, current = flow.locate(participant)
        if step != flow.TRIAL or current.position != position:
            return redirect(step_url(participant))
        form = PairAnswerForm() if current.is_pair else AnswerForm()
        if current.first_shown_at is None:
            _shown(current)
    context = {
        "study": study,
        "form": form,
        "refusal": refusal,
        "practice": current.kind == Trial.Kind.PRACTICE,
        "number": position,
        "total": study.trials_shown,
        "audio_url": reverse("surveys:audio", args=[current.audio_token]),
        "offer_ogg": offers_ogg(study),
        "action": reverse("surveys:trial", args=[slug, position]),
    }
    template = "surveys/trial.html"
    if current.is_pair:
        context["audio_url_b"] = reverse("surveys:audio", args=[current.audio_token_b])
        context["players"] = [("A", context["audio_url"]), ("B", context["audio_url_b"])]
        template = "surveys/pair_trial.html"
    status = 400 if form.errors or refusal else 200
    return page(request, participant, template, context, status=status)


@never_cache
@limit_participant_posts
def questions(request: HttpRequest, slug: str) -> HttpResponse:
    participant, elsewhere = require(request, slug, flow.QUESTIONS)
    if elsewhere:
        return elsewhere
    form = QuestionnaireForm(
        request.POST if request.method == "POST" else None,
        ask_experience=participant.study.ask_experience,
    )
    if request.method == "POST" and form.is_valid():
        answers = form.gold_msi_answers()
        participant.music_experience = form.cleaned_data.get("music_experience", "")
        participant.age_band = form.cleaned_data["age_band"]
        participant.musical_training_years = form.cleaned_data["musical_training_years"]
        participant.gold_msi_answers = answers
        participant.gold_msi_training = training_score(answers)
        participant.questionnaire_at = timezone.now()
        participant.save(update_fields=QUESTIONNAIRE_FIELDS)
        flow.complete(participant)
        participant.refresh_from_db(fields=["completed_at"])
        return redirect(step_url(participant))
    context = {"study": participant.study, "form": form}
    return page(request, participant, "surveys/questions.html", context)


def _ending(request: HttpRequest, slug: str, step: str, template: str, kind: str) -> HttpResponse:
    """An end page with its code and, when the study has one, the link to follow with it (kind
    "completion" or "screen_out" names the study's fields). A preview is shown where the link
    would lead, but offered nothing to follow there."""
    participant, elsewhere = require(request, slug, step)
    if elsewhere:
        return elsewhere
    study = participant.study
    code = getattr(study, f"{kind}_code")
    url = getattr(study, f"{kind}_url").replace("{code}", code)
    context = {
        "study": study,
        "code": code,
        "link": "" if participant.preview else url,
        "preview_redirect": url if participant.preview else "",
    }
    if kind == "completion" and study.is_pair and study.show_score:
        context["score"] = _score(participant)
    return page(request, participant, template, context)


def _score(participant: Participant) -> tuple[int, int]:
    """Pairs answered right, of pairs answered: the feedback a pair study may give at the end."""
    answers = participant.answers.filter(trial__kind=Trial.Kind.EXPERIMENTAL)
    return answers.filter(correct=True).count(), answers.count()


@never_cache
def done(request: HttpRequest, slug: str) -> HttpResponse:
    return _ending(request, slug, flow.DONE, "surveys/done.html", "completion")


@never_cache
def screened_out(request: HttpRequest, slug: str) -> HttpResponse:
    """The end for a participant who failed the headphone check in a study that screens out:
    the study's message, and its screen-out code (never the completion code) or link."""
    return _ending(request, slug, flow.SCREENED_OUT, "surveys/screened_out.html", "screen_out")


@never_cache
def time_up(request: HttpRequest, slug: str) -> HttpResponse:
    """A participant whose time limit ran out while the study filled up: it cannot go on."""
    participant, elsewhere = require(request, slug, flow.TIME_UP)
    if elsewhere:
        return elsewhere
    context = {"study": participant.study, "minutes": participant.study.time_limit_minutes}
    return page(request, participant, "surveys/time_up.html", context)
