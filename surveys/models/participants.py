"""A participant: an anonymous random token (cookie and link), their progress and questionnaire.

A participant exists from the consent POST on: following the study link stores nothing, since
link scanners and chat-app previews follow links too. Consent also reserves a place in the study
until `reserved_until` (see Study.places_taken). Each step stamps a time, so the funnel
(consented, passed the headphone check, passed the attention checks, completed) is a read of
this one row. The exclusion decision is stored with its
reason when the participant completes, under the study's frozen rules.

A preview is a researcher trying the study from the dashboard: the same pages and the same stored
rows, flagged so that no statistic, count, export or exposure balance ever includes it.
"""

import secrets
import statistics

from django.db import models
from django.utils import timezone

from surveys.exclusion import ParticipantFacts, exclusion_reason, is_non_musician
from surveys.models.stimuli import new_token
from surveys.models.study import Study
from surveys.questionnaire import EXPERIENCE_LEVELS


def new_seed() -> int:
    return secrets.randbits(62)


class Participant(models.Model):
    class AgeBand(models.TextChoices):
        UNDER_25 = "18-24", "18-24"
        UNDER_35 = "25-34", "25-34"
        UNDER_45 = "35-44", "35-44"
        UNDER_55 = "45-54", "45-54"
        UNDER_65 = "55-64", "55-64"
        OLDER = "65+", "65 or over"
        UNSAID = "unsaid", "prefer not to say"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    seed = models.BigIntegerField(default=new_seed, help_text="draws this participant's trials")
    preview = models.BooleanField(
        default=False,
        editable=False,
        help_text="a researcher trying the study from the dashboard; never counted",
    )
    prolific_pid = models.CharField(max_length=64, blank=True)
    prolific_study_id = models.CharField(max_length=64, blank=True)
    prolific_session_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    reserved_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="the participant's place in the study is held until then, unless they complete",
    )
    headphone_correct = models.PositiveSmallIntegerField(null=True, blank=True)
    headphone_passed = models.BooleanField(null=True, blank=True)
    screened_out_at = models.DateTimeField(
        null=True, blank=True, help_text="ended at the headphone check, by the study's setting"
    )
    instructions_read_at = models.DateTimeField(null=True, blank=True)
    trials_assigned_at = models.DateTimeField(null=True, blank=True)
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, blank=True)
    musical_training_years = models.FloatField(null=True, blank=True)
    gold_msi_answers = models.JSONField(default=dict, blank=True)
    gold_msi_training = models.FloatField(null=True, blank=True)
    non_musician = models.BooleanField(null=True, blank=True)
    music_experience = models.CharField(
        max_length=12,
        choices=EXPERIENCE_LEVELS,
        blank=True,
        help_text="self-rated level, asked when the study asks for it",
    )
    questionnaire_at = models.DateTimeField(null=True, blank=True)
    attention_failed = models.PositiveSmallIntegerField(null=True, blank=True)
    attention_passed = models.BooleanField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    excluded = models.BooleanField(default=False)
    exclusion_reason = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["study_id", "started_at"]
        indexes = [
            models.Index(fields=["study", "completed_at"]),
            models.Index(fields=["study", "prolific_pid"]),
        ]

    def __str__(self) -> str:
        kind = "preview" if self.preview else "participant"
        return f"{kind} {self.pk} of {self.study.slug}"

    @property
    def consented(self) -> bool:
        return self.consented_at is not None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None

    def holds_place(self) -> bool:
        """Whether the place reserved at consent is still this participant's (previews and
        completed participants need none)."""
        if self.preview or self.completed:
            return True
        return self.reserved_until is not None and self.reserved_until > timezone.now()

    def facts(self) -> ParticipantFacts:
        times = list(
            self.answers.filter(trial__kind="experimental").values_list("response_ms", flat=True)
        )
        return ParticipantFacts(
            completed=self.completed,
            headphone_correct=self.headphone_correct,
            attention_failed=self.attention_failed,
            musical_training_years=self.musical_training_years,
            median_response_ms=statistics.median(times) if times else None,
        )

    def decide_exclusion(self) -> None:
        """Apply the study's frozen rules and store the outcome with its reason."""
        rules = self.study.rules
        self.non_musician = is_non_musician(rules, self.musical_training_years)
        self.exclusion_reason = exclusion_reason(rules, self.facts())
        self.excluded = bool(self.exclusion_reason)
