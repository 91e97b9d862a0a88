"""Researcher pages for studies: list with live progress, create, open or close, share the link,
and try the study as a participant (a preview, which no count or statistic includes)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.access import RUN_EXPERIMENTS, needs
from dashboard.forms import StudyForm
from surveys.link_opens import openings
from surveys.models import Study, StudyStimulus
from surveys.models.attention import make_attention_clips
from surveys.spec import study_stimulus_spec
from surveys.views.joining import start_preview

COUNTED = Q(participants__preview=False)


def _with_progress(queryset):
    def counted(condition: Q | None = None) -> Count:
        where = COUNTED if condition is None else COUNTED & condition
        return Count("participants", filter=where, distinct=True)

    return queryset.annotate(
        n_consented=counted(Q(participants__consented_at__isnull=False)),
        n_screened_out=counted(Q(participants__screened_out_at__isnull=False)),
        n_completed=counted(Q(participants__completed_at__isnull=False)),
        n_excluded=counted(Q(participants__excluded=True)),
        n_previews=Count("participants", filter=Q(participants__preview=True), distinct=True),
        n_pool=Count("items", filter=Q(items__role=StudyStimulus.Role.POOL), distinct=True),
    )


def _add_attention_clips(study: Study) -> None:
    """Make the standard attention clips for a study that asks for checks and has none yet for
    its design; clips made for the other design (chosen before the design changed) go."""
    study.attention_clips.remove(*study.attention_clips.exclude(design=study.design))
    if study.attention_checks and not study.attention_clips.filter(design=study.design).exists():
        spec = study_stimulus_spec(study)
        study.attention_clips.add(*make_attention_clips(spec, study.design))


@login_required
def study_list(request: HttpRequest) -> HttpResponse:
    studies = list(_with_progress(Study.objects.all()))
    for study in studies:
        study.n_opened = openings(study)
    return render(request, "dashboard/study_list.html", {"studies": studies})


@needs(RUN_EXPERIMENTS)
def study_create(request: HttpRequest) -> HttpResponse:
    form = StudyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            study = form.save(commit=False)
            study.exclusion_rules = form.cleaned_data["rules_json"]
            study.created_by = request.user
            study.save()
            study.add_stimuli(form.cleaned_data["pool"])
        messages.success(request, f"Study {study.slug} created as a draft.")
        return redirect("surveys_dashboard:detail", study.slug)
    return render(request, "dashboard/study_form.html", {"form": form})


@needs(RUN_EXPERIMENTS)
def study_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """A draft's every setting and its pool; once open, what participants meet is fixed."""
    study = get_object_or_404(Study, slug=slug)
    if study.state != Study.State.DRAFT:
        messages.error(request, f"Study {slug} is {study.state}; only a draft can be edited.")
        return redirect("surveys_dashboard:detail", slug)
    form = StudyForm(request.POST if request.method == "POST" else None, instance=study)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if Study.objects.select_for_update().get(pk=study.pk).state != Study.State.DRAFT:
                messages.error(request, f"Study {slug} was opened meanwhile; it was not changed.")
                return redirect("surveys_dashboard:detail", slug)
            study = form.save(commit=False)
            study.exclusion_rules = form.cleaned_data["rules_json"]
            study.save()
            study.set_pool(form.cleaned_data["pool"])
        messages.success(request, f"Draft {study.slug} saved.")
        return redirect("surveys_dashboard:detail", study.slug)
    previews = study.participants.filter(preview=True).exists()
    context = {"form": form, "study": study, "previews": previews}
    return render(request, "dashboard/study_form.html", context)


@login_required
def study_detail(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(_with_progress(Study.objects.all()), slug=slug)
    pool = (
        study.items.values("source_kind", "source", "batch_id", "role")
        .annotate(n=Count("id"))
        .order_by("role", "source_kind", "source", "batch_id")
    )
    study.n_opened = openings(study)
    context = {
        "study": study,
        "pool": pool,
        "places_taken": study.places_taken(),
        "problems": (
            study.problems(clips_made_on_opening=True) if study.state == Study.State.DRAFT else []
        ),
        "recurrence": study.recurrence_warning(),
        "link": request.build_absolute_uri(reverse("surveys:entry", args=[study.slug])),
        "prolific_link": request.build_absolute_uri(reverse("surveys:entry", args=[study.slug]))
        + "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
    }
    return render(request, "dashboard/study_detail.html", context)


@needs(RUN_EXPERIMENTS)
@require_POST
def study_open(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    try:
        _add_attention_clips(study)
        study.open()
        messages.success(request, "The study is open; its exclusion rules are now fixed.")
    except (ValidationError, ValueError, RuntimeError) as error:
        for message in getattr(error, "messages", [str(error)]):
            messages.error(request, message)
    return redirect("surveys_dashboard:detail", slug)


@needs(RUN_EXPERIMENTS)
@require_POST
def study_close(request: HttpRequest, slug: str) -> HttpResponse:
    get_object_or_404(Study, slug=slug).close()
    messages.success(request, "The study is closed; people already taking it may finish.")
    return redirect("surveys_dashboard:detail", slug)


@needs(RUN_EXPERIMENTS)
@require_POST
def study_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a new preview session and send the researcher to its first participant page.

    It needs RUN_EXPERIMENTS: a preview ends on the completion code, and may make a draft's
    attention clips.

    A draft may be previewed once it could open (its excerpts ready, its pool enough for one
    participant); its rules stay editable and its state stays draft. The attention clips a draft
    lacks are made now, as opening would make them, so the preview includes the checks.
    """
    study = get_object_or_404(Study, slug=slug)
    if study.state == Study.State.DRAFT:
        try:
            _add_attention_clips(study)
            problems = study.problems()
        except (ValidationError, ValueError, RuntimeError) as error:
            problems = getattr(error, "messages", [str(error)])
        if problems:
            messages.error(request, "The study cannot be previewed yet:")
            for message in problems:
                messages.error(request, message)
            return redirect("surveys_dashboard:detail", slug)
    return start_preview(study)
