"""Trials and answers. A trial is one excerpt (single design) or one pair of excerpts, A then B
(pair design), in one participant's sequence; an answer is final.

In a pair trial ``item`` is excerpt A and ``item_b`` excerpt B, so the A/B order each participant
heard is recorded by the trial itself; an attention check plays its clip as both.

Each trial has its own random audio token, so the same excerpt has a different address for every
participant and nothing links a URL to a stimulus. One answer per trial is enforced by the database
(a one-to-one key), which makes double clicks and retries harmless.
"""

from django.db import models

from surveys.models.participants import Participant
from surveys.models.stimuli import new_token
from surveys.models.study import StudyStimulus


class Trial(models.Model):
    class Kind(models.TextChoices):
        PRACTICE = "practice", "practice"
        EXPERIMENTAL = "experimental", "experimental"
        ATTENTION = "attention", "attention check"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="trials")
    position = models.PositiveSmallIntegerField(help_text="0 is the practice trial, if any")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    item = models.ForeignKey(
        StudyStimulus, on_delete=models.PROTECT, null=True, blank=True, related_name="trials"
    )
    attention_clip = models.ForeignKey(
        "surveys.AttentionClip",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trials",
    )
    item_b = models.ForeignKey(
        StudyStimulus,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trials_as_b",
        help_text="pair design: excerpt B (item is excerpt A)",
    )
    audio_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    audio_token_b = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="pair design: excerpt B's own random address",
    )
    first_shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # By the key column: "participant" would follow Participant's own ordering and join
        # participant and study into every trial query, the survey's hottest.
        ordering = ["participant_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "position"], name="unique_trial_position"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="attention", item__isnull=True, attention_clip__isnull=False)
                    | (
                        ~models.Q(kind="attention")
                        & models.Q(item__isnull=False, attention_clip__isnull=True)
                    )
                ),
                name="trial_has_one_sound",
            ),
        ]

    def __str__(self) -> str:
        return f"trial {self.position} ({self.kind}) of participant {self.participant_id}"

    @property
    def is_pair(self) -> bool:
        return self.audio_token_b is not None

    def human_choice(self) -> str | None:
        """Pair design: "a" or "b", whichever excerpt a person composed (or the attention clip
        asks for); None for a single-design trial."""
        if not self.is_pair:
            return None
        if self.kind == self.Kind.ATTENTION:
            return self.attention_clip.expected_choice
        return "a" if self.item.source_kind == "human" else "b"


class Answer(models.Model):
    trial = models.OneToOneField(Trial, on_delete=models.CASCADE, related_name="answer")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    judged_human = models.BooleanField(
        null=True, help_text='single design: the participant answered "a person"'
    )
    choice = models.CharField(
        max_length=1,
        blank=True,
        help_text='pair design: the excerpt chosen as composed by a person, "a" or "b"',
    )
    confidence = models.PositiveSmallIntegerField()
    musicality = models.PositiveSmallIntegerField(null=True, help_text="single design only")
    correct = models.BooleanField(
        null=True, help_text="matches the true source (or the spoken instruction); null in practice"
    )
    response_ms = models.PositiveIntegerField(help_text="from the buttons unlocking to the answer")
    listening_ms = models.PositiveIntegerField(help_text="time the excerpt was playing")
    plays = models.PositiveSmallIntegerField(help_text="times playback was started")
    request_id = models.CharField(max_length=64, blank=True, help_text="client-made, for retries")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant_id", "trial__position"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "trial"], name="one_answer_per_trial"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=1, confidence__lte=5), name="confidence_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(musicality__gte=1, musicality__lte=5), name="musicality_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"answer to {self.trial}"


class HeadphoneTrial(models.Model):
    """One Woods et al. (2017) triplet; the quiet tone's place is known only to the server."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="headphone_trials"
    )
    position = models.PositiveSmallIntegerField()
    quiet_position = models.PositiveSmallIntegerField(help_text="1, 2 or 3: the right answer")
    antiphase_position = models.PositiveSmallIntegerField()
    audio_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    response = models.PositiveSmallIntegerField(null=True, blank=True)
    correct = models.BooleanField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    first_shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["participant_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "position"], name="unique_headphone_position"
            )
        ]

    def __str__(self) -> str:
        return f"headphone trial {self.position} of participant {self.participant_id}"
