"""The study link and the consent page: where people join, and where nothing is stored until
they consent.

A GET stores nothing: link scanners and chat-app previews follow links too. The link counts its
opening in the cache and leads to the consent page; the Prolific parameters it carried travel in
a signed hidden field of the consent form. The consent POST creates the participant and takes
one of the study's places, or says that the study is full, before anyone has consented.

A browser holding a participant's cookie resumes that participant instead, a researcher's
preview included: the researcher who tried the study and then follows its public link is not
turned into a counted participant. A Prolific id already taking part, arriving without that
cookie, is told to go on where it started (the same browser, or the resume link): the id is no
secret, so it never opens someone's session by itself.
"""

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from surveys import flow
from surveys.forms import PROLIFIC_PARAMS, TOKEN, ConsentForm, sign_start
from surveys.link_opens import count_opening
from surveys.models import Participant, Study
from surveys.models.stimuli import new_token
from surveys.ratelimit import too_many_joins
from surveys.views.visits import limit_participant_posts, page, require, resume, visit

# A panel's participant, study or session id as the link may carry it (see _prolific_fields).
PANEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _closed(request: HttpRequest, study: Study, full: bool | None = None) -> HttpResponse:
    full = study.is_full() if full is None else full
    return render(request, "surveys/closed.html", {"study": study, "full": full})


@never_cache
def entry(request: HttpRequest, slug: str) -> HttpResponse:
    """The study link: resume a known participant, else lead to the consent page."""
    study, participant = visit(request, slug)
    if participant is not None:
        return resume(participant)
    pid = _prolific_fields(request).get("prolific_pid")
    if pid and study.participants.filter(prolific_pid=pid, preview=False).exists():
        return _already_taking(request, study)
    if not study.accepting():
        return _closed(request, study)
    count_opening(study)
    consent_url = reverse("surveys:consent", args=[slug])
    query = request.GET.urlencode()
    return redirect(f"{consent_url}?{query}" if query else consent_url)


@never_cache
@limit_participant_posts
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    study, participant = visit(request, slug)
    if participant is not None:
        return _known_consent(request, slug)
    if not study.accepting():
        return _closed(request, study)
    form = ConsentForm(
        request.POST if request.method == "POST" else None,
        initial={"start": sign_start(slug, _prolific_fields(request), new_token())},
        slug=slug,
    )
    if request.method == "POST" and form.is_valid():
        if too_many_joins(request):
            return render(request, "surveys/too_many_joins.html", {"study": study}, status=429)
        start = dict(form.cleaned_data["start"])
        token = start.pop(TOKEN, "")
        try:
            participant = flow.join(study, start, token)
        except flow.NotAccepting as refusal:
            return _closed(request, study, full=refusal.full)
        except flow.AlreadyTaking:
            return _already_taking(request, study)
        return resume(participant)
    context = {"study": study, "form": form, "preview": False}
    return render(request, "surveys/consent.html", context)


def _prolific_fields(request: HttpRequest) -> dict[str, str]:
    """The Prolific parameters the link carried, trimmed (a pasted link brings stray spaces).

    Prolific's ids are 24 hexadecimal digits; letters, digits, '.', '_' and '-' (not first) are
    kept, so other panels' ids pass too. Anything else is dropped as if the link had not carried
    it: anyone can open a study link, and these values go into the export researchers open in a
    spreadsheet (a value like =HYPERLINK(...) would run there)."""
    fields = {
        field: request.GET.get(param, "").strip()[:64] for param, field in PROLIFIC_PARAMS.items()
    }
    return {field: value for field, value in fields.items() if PANEL_ID.fullmatch(value)}


def _already_taking(request: HttpRequest, study: Study) -> HttpResponse:
    return render(request, "surveys/already_taking.html", {"study": study}, status=409)


def _known_consent(request: HttpRequest, slug: str) -> HttpResponse:
    """The consent page of a row made before consent: a preview, or someone resuming."""
    participant, elsewhere = require(request, slug, flow.CONSENT)
    if elsewhere:
        return elsewhere
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            flow.consent(participant)
        except flow.NotAccepting as refusal:
            return _closed(request, participant.study, full=refusal.full)
        return resume(participant)
    context = {"study": participant.study, "form": form}
    return page(request, participant, "surveys/consent.html", context)


def start_preview(study: Study) -> HttpResponse:
    """A new preview session of the study (the caller has checked the researcher may start one):
    its cookie replaces any earlier session of this study in the browser, and it begins at
    consent."""
    return resume(Participant.objects.create(study=study, preview=True))


@never_cache
def resume_link(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The link a participant keeps to come back on another device."""
    participant = Participant.objects.filter(study__slug=slug, token=token).first()
    if participant is None:
        raise Http404("No such participant")
    return resume(participant)
