"""Admin lists for stimuli, studies, participants, trials, answers and published reports: the
columns a researcher checks."""

from django.contrib import admin

from surveys.models import (
    Answer,
    AttentionClip,
    HeadphoneTrial,
    Participant,
    PublishedReport,
    Stimulus,
    Study,
    StudyStimulus,
    Trial,
)


@admin.register(Stimulus)
class StimulusAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "source_kind",
        "source_label",
        "piece",
        "status",
        "duration_seconds",
        "loudness_lufs",
        "created",
    ]
    list_filter = ["source_kind", "status", "source_label"]
    search_fields = ["piece__name", "piece__title", "token"]
    raw_id_fields = ["piece"]
    readonly_fields = ["token", "created"]


def _is_draft(study: Study | None) -> bool:
    return study is None or study.state == Study.State.DRAFT


class StudyStimulusInline(admin.TabularInline):
    """The pool; fixed once the study opens, as participants' trials draw on it."""

    model = StudyStimulus
    extra = 0
    raw_id_fields = ["stimulus", "batch"]
    fields = ["stimulus", "role", "source_kind", "source", "batch"]

    def has_add_permission(self, request, obj=None) -> bool:
        return _is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _is_draft(obj) and super().has_delete_permission(request, obj)


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "title",
        "state",
        "design",
        "trials_per_participant",
        "target_participants",
        "opened_at",
    ]
    list_filter = ["state", "design"]
    search_fields = ["slug", "title"]
    readonly_fields = ["frozen_rules", "opened_at", "closed_at", "created"]
    filter_horizontal = ["attention_clips"]
    inlines = [StudyStimulusInline]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        """Everything, once the study has opened: its design is what its participants met
        (open and close it from the dashboard)."""
        if _is_draft(obj):
            return self.readonly_fields
        return [field.name for field in Study._meta.fields] + ["attention_clips"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "study",
        "preview",
        "prolific_pid",
        "started_at",
        "consented_at",
        "headphone_passed",
        "attention_passed",
        "non_musician",
        "completed_at",
        "excluded",
        "exclusion_reason",
    ]
    list_filter = [
        "study",
        "preview",
        "headphone_passed",
        "attention_passed",
        "non_musician",
        "excluded",
    ]
    search_fields = ["prolific_pid", "token"]
    readonly_fields = ["token", "preview", "seed", "started_at"]


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "participant",
        "position",
        "kind",
        "item",
        "item_b",
        "attention_clip",
        "first_shown_at",
    ]
    list_filter = ["kind", "participant__study"]
    raw_id_fields = ["participant", "item", "item_b", "attention_clip"]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "participant",
        "trial",
        "judged_human",
        "choice",
        "correct",
        "confidence",
        "musicality",
        "response_ms",
        "listening_ms",
        "plays",
        "created",
    ]
    list_filter = ["trial__kind", "judged_human", "correct", "participant__study"]
    raw_id_fields = ["participant", "trial"]


@admin.register(HeadphoneTrial)
class HeadphoneTrialAdmin(admin.ModelAdmin):
    list_display = ["id", "participant", "position", "quiet_position", "response", "correct"]
    list_filter = ["correct"]
    raw_id_fields = ["participant"]


@admin.register(AttentionClip)
class AttentionClipAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "text",
        "design",
        "expected_judged_human",
        "expected_choice",
        "duration_seconds",
        "loudness_lufs",
    ]


@admin.register(PublishedReport)
class PublishedReportAdmin(admin.ModelAdmin):
    """A published copy is frozen: the admin shows it, and withdrawing is its one change."""

    list_display = ["study", "published_at", "participants", "published_by", "withdrawn_at"]
    list_filter = ["withdrawn_at"]
    search_fields = ["study__slug"]
    fields = ["study", "token", "published_at", "published_by", "participants", "withdrawn_at"]
    readonly_fields = ["study", "token", "published_at", "published_by", "participants"]

    def has_add_permission(self, request) -> bool:
        return False
