"""A study: what participants read, which excerpts it draws from, and the rules fixed when it opens.

The pool is a through table (StudyStimulus) that records, when an excerpt is added, its source kind,
its source (``"human"`` or the model label) and its generation batch. Trials point at those rows, so
the statistics can build the tidy answer table without walking back through pieces and runs, and a
later change to a batch cannot rewrite what a study showed.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from generation.models import GenerationBatch
from surveys.exclusion import DEFAULT_RULES, unmet_rules, validate_rules
from surveys.models.stimuli import Stimulus


def new_completion_code() -> str:
    return secrets.token_hex(4).upper()


def default_rules() -> dict:
    return dict(DEFAULT_RULES)


DEFAULT_SCREEN_OUT_MESSAGE = (
    "Thank you for your time. This study needs headphones, and the sound check suggests that "
    "the sounds are not reaching you through headphones, so it ends here."
)


# Excerpts of one pair study must last the same within this many seconds: a length difference
# would tell the two apart by something other than who composed them.
PAIR_DURATION_TOLERANCE_S = 0.05


class Study(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "draft"
        OPEN = "open", "open"
        CLOSED = "closed", "closed"

    class Design(models.TextChoices):
        SINGLE = "single", "single excerpt: a person or a computer?"
        PAIR = "pair", "pair (2AFC): which of two was composed by a person?"

    slug = models.SlugField(max_length=60, unique=True, help_text="appears in the study link")
    title = models.CharField(max_length=200, help_text="shown to participants: name no source")
    instructions = models.TextField(
        default=(
            "You will hear short excerpts of music. Some were composed by people, some by a "
            "computer. After each one, tell us which you think it is and how sure you are."
        )
    )
    consent_text = models.TextField()
    design = models.CharField(
        max_length=8,
        choices=Design.choices,
        default=Design.SINGLE,
        help_text="chosen while a draft and fixed when the study opens; the analysis follows it",
    )
    trials_per_participant = models.PositiveSmallIntegerField(
        default=20,
        help_text="single design: excerpts per participant, even, half of each kind; "
        "pair design: pairs per participant",
    )
    show_score = models.BooleanField(
        default=False,
        help_text="pair design: tell each participant at the end how many pairs they got right",
    )
    ask_experience = models.BooleanField(
        default=False,
        help_text="ask participants their level of music experience (BachBot's question)",
    )
    attention_checks = models.PositiveSmallIntegerField(default=2)
    practice_trial = models.BooleanField(default=True)
    headphone_trials = models.PositiveSmallIntegerField(default=6)
    target_participants = models.PositiveIntegerField(default=100)
    overbooking = models.PositiveIntegerField(
        default=0,
        help_text="places beyond the target that may be held at once, for people who start "
        "and do not finish; completions can reach the target plus this",
    )
    time_limit_minutes = models.PositiveIntegerField(
        default=60,
        help_text="how long a participant may take: their place is held that long from "
        "consent, then given to someone else unless they are still inside it",
    )
    headphone_screen_out = models.BooleanField(
        default=True,
        help_text="end the study for a participant who fails the headphone check, rather than "
        "let them go on only to be excluded",
    )
    screen_out_message = models.TextField(
        default=DEFAULT_SCREEN_OUT_MESSAGE, help_text="shown to a participant screened out"
    )
    screen_out_url = models.URLField(
        blank=True,
        max_length=500,
        help_text="optional link for a participant screened out, e.g. "
        "https://app.prolific.com/submissions/complete?cc={code}",
    )
    screen_out_code = models.CharField(
        max_length=32,
        default=new_completion_code,
        help_text="the code a screened-out participant gets; not the completion code",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.DRAFT)
    stimuli = models.ManyToManyField(
        Stimulus, through="StudyStimulus", related_name="studies", blank=True
    )
    attention_clips = models.ManyToManyField(
        "surveys.AttentionClip", related_name="studies", blank=True
    )
    exclusion_rules = models.JSONField(
        default=default_rules, help_text="editable while a draft; copied to frozen_rules on open"
    )
    frozen_rules = models.JSONField(
        null=True, blank=True, editable=False, help_text="the rules in force, fixed on opening"
    )
    completion_code = models.CharField(max_length=32, default=new_completion_code)
    completion_url = models.URLField(
        blank=True,
        max_length=500,
        help_text="optional redirect on completion, e.g. "
        "https://app.prolific.com/submissions/complete?cc={code}",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created"]
        # The researcher's role (dashboard/access.py): any other account only reads.
        permissions = [
            (
                "run_experiments",
                "Can import music, train, generate and render, and create, change, open and "
                "close studies",
            ),
            ("view_participants", "Can see participants' Prolific ids"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(trials_per_participant__gte=2), name="study_min_two_trials"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    def save(self, *args, **kwargs):
        if self.pk and self.frozen_rules is not None:
            stored = Study.objects.filter(pk=self.pk).values_list("exclusion_rules", flat=True)
            if stored and stored[0] != self.exclusion_rules:
                raise ValidationError("Exclusion rules are fixed once a study has opened.")
            design = Study.objects.filter(pk=self.pk).values_list("design", flat=True)
            if design and design[0] != self.design:
                raise ValidationError("The design is fixed once a study has opened.")
        super().save(*args, **kwargs)

    @property
    def rules(self) -> dict:
        """The exclusion rules that apply (frozen once the study has opened), defaults filled in."""
        return validate_rules(
            self.frozen_rules if self.frozen_rules is not None else self.exclusion_rules
        )

    def completed_count(self) -> int:
        """Completed participants towards the target; a researcher's previews never count."""
        return self.participants.filter(completed_at__isnull=False, preview=False).count()

    @property
    def places(self) -> int:
        """How many places may be taken at once: the target plus the overbooking allowance."""
        return self.target_participants + self.overbooking

    @property
    def time_limit(self) -> timedelta:
        return timedelta(minutes=self.time_limit_minutes)

    def places_taken(self) -> int:
        """Completions plus places still held: consented, unfinished, inside the time limit."""
        held = models.Q(completed_at__isnull=False) | models.Q(reserved_until__gt=timezone.now())
        return self.participants.filter(held, preview=False).count()

    def is_full(self) -> bool:
        return self.places_taken() >= self.places

    def accepting(self) -> bool:
        return self.state == self.State.OPEN and not self.is_full()

    def add_stimuli(self, stimuli, role: str = "pool") -> int:
        """Add excerpts to the pool, recording their source and batch now; returns how many."""
        if self.state != self.State.DRAFT:
            raise ValidationError("The pool of an open or closed study cannot change.")
        added = 0
        for stimulus in stimuli:
            _, created = StudyStimulus.objects.get_or_create(
                study=self,
                stimulus=stimulus,
                defaults={
                    "role": role,
                    "source_kind": stimulus.source_kind,
                    "source": StudyStimulus.source_of(stimulus),
                    "batch": StudyStimulus.batch_of(stimulus),
                },
            )
            added += created
        return added

    def set_pool(self, stimuli) -> None:
        """Makes a draft's pool exactly these excerpts, as an edit of the draft chose them.
        The draft's preview sessions go first: their trials drew on the pool being changed."""
        if self.state != self.State.DRAFT:
            raise ValidationError("The pool of an open or closed study cannot change.")
        self.participants.filter(preview=True).delete()
        chosen = [stimulus.pk for stimulus in stimuli]
        self.items.filter(role=StudyStimulus.Role.POOL).exclude(stimulus_id__in=chosen).delete()
        self.add_stimuli(stimuli)

    @property
    def is_pair(self) -> bool:
        return self.design == self.Design.PAIR

    @property
    def trials_shown(self) -> int:
        """Trials each participant counts through, at positions 1 to this: the excerpts (pairs)
        and the attention checks; a practice trial comes before them, at position 0."""
        return self.trials_per_participant + self.attention_checks

    def _pair_problems(self) -> list[str]:
        """A pair plays a human and a machine excerpt side by side, so they must match."""
        durations = [
            d
            for d in self.items.values_list("stimulus__duration_seconds", flat=True)
            if d is not None
        ]
        found = []
        if durations and max(durations) - min(durations) > PAIR_DURATION_TOLERANCE_S:
            found.append(
                f"A pair study's excerpts must all last the same; these last {min(durations):.2f}"
                f" to {max(durations):.2f} s. Cut every excerpt of the pool to one length."
            )
        specs = set(self.items.exclude(stimulus__spec_hash="").values_list("stimulus__spec_hash"))
        if len(specs) > 1:
            found.append(
                f"A pair study's excerpts must all be rendered with one set of settings; the pool "
                f"mixes {len(specs)}. Render every excerpt with the same settings."
            )
        return found

    def recurrence_warning(self) -> str:
        """Why the pool's kinds will not be heard equally often, or "". Each participant hears
        as many human as machine excerpts, so the smaller kind's excerpts recur across
        participants: people who compare notes, or take the study twice, could learn that the
        excerpts that keep coming back are the person's (or the machine's)."""
        n_human, n_machine = self._pool_counts()
        if not n_human or not n_machine or max(n_human, n_machine) < 2 * min(n_human, n_machine):
            return ""
        fewer, more = ("human", "machine") if n_human < n_machine else ("machine", "human")
        ratio = max(n_human, n_machine) / min(n_human, n_machine)
        return (
            f"The pool has {n_human} human and {n_machine} machine excerpts: each {fewer} excerpt "
            f"will be heard about {ratio:.1f} times as often as each {more} one. Participants who "
            f"compare notes, or take the study twice, could learn that the ones that recur are "
            f"{fewer}. Add {fewer} excerpts, or leave some {more} ones out, to even it."
        )

    def _pool_counts(self) -> tuple[int, int]:
        """Human and machine excerpts in the pool."""
        pool = self.items.filter(role=StudyStimulus.Role.POOL)
        n_human = pool.filter(source_kind=Stimulus.SourceKind.HUMAN).count()
        n_machine = pool.filter(source_kind=Stimulus.SourceKind.MACHINE).count()
        return n_human, n_machine

    def problems(self, clips_made_on_opening: bool = False) -> list[str]:
        """Why this study cannot open yet; an empty list means it can. With
        ``clips_made_on_opening`` (the dashboard, which makes a study's standard attention clips
        when it opens or is previewed) missing clips are not counted."""
        found = []
        n_human, n_machine = self._pool_counts()
        if self.is_pair:
            # One human and one machine excerpt a pair, none heard twice by one participant.
            needed = self.trials_per_participant
            who = f"each participant's {needed} pairs need"
            found += self._pair_problems()
        else:
            needed = self.trials_per_participant // 2
            who = "each participant needs"
            if self.trials_per_participant % 2:
                found.append("Trials per participant must be even (half human, half machine).")
        for have, kind in ((n_human, "human"), (n_machine, "machine")):
            if have < needed:
                excerpts = "excerpt" if have == 1 else "excerpts"
                found.append(f"The pool has {have} {kind} {excerpts}; {who} {needed}.")
        if self.show_score and not self.is_pair:
            found.append("Showing the score at the end is for pair studies only.")
        not_ready = self.items.exclude(stimulus__status=Stimulus.Status.READY).count()
        if not_ready:
            found.append(f"{not_ready} excerpt(s) in the pool have no finished audio.")
        clips = self.attention_clips.filter(design=self.design)
        if self.attention_checks and not clips.exists() and not clips_made_on_opening:
            found.append(
                f"The study asks for attention checks but has no attention clips for the "
                f"{self.design} design."
            )
        if self.attention_clips.exclude(design=self.design).exists():
            found.append(
                f"Some attention clips are for another design than {self.design}; remove them."
            )
        if not self.time_limit_minutes:
            found.append("Give participants a time limit of at least one minute.")
        if not self.target_participants:
            found.append(
                "Set a target of at least one participant: with 0, everyone is turned away."
            )
        try:
            found += unmet_rules(self.exclusion_rules, self.headphone_trials, self.attention_checks)
        except ValueError as error:
            found.append(f"Exclusion rules: {error}")
        return found

    def open(self) -> None:
        """Open for participants, freezing the exclusion rules so they are decided in advance."""
        with transaction.atomic():
            study = Study.objects.select_for_update().get(pk=self.pk)
            if study.state == self.State.OPEN:
                return
            if study.state == self.State.CLOSED:
                raise ValidationError("A closed study cannot reopen; copy it instead.")
            problems = study.problems()
            if problems:
                raise ValidationError(problems)
            # Every default written out, so a later change of a default cannot reach this study.
            study.frozen_rules = validate_rules(study.exclusion_rules)
            study.state = self.State.OPEN
            study.opened_at = timezone.now()
            study.save(update_fields=["frozen_rules", "state", "opened_at"])
        self.refresh_from_db()

    def close(self) -> None:
        if self.state == self.State.CLOSED:
            return
        self.state = self.State.CLOSED
        self.closed_at = timezone.now()
        self.save(update_fields=["state", "closed_at"])


class StudyStimulus(models.Model):
    """One excerpt in a study's pool, with its source as recorded when it was added."""

    class Role(models.TextChoices):
        POOL = "pool", "experimental pool"
        PRACTICE = "practice", "practice only"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    stimulus = models.ForeignKey(Stimulus, on_delete=models.PROTECT, related_name="study_items")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.POOL)
    source_kind = models.CharField(max_length=10, choices=Stimulus.SourceKind.choices)
    source = models.CharField(max_length=80, help_text='"human" or the model label')
    batch = models.ForeignKey(
        GenerationBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "study excerpt"
        ordering = ["study_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "stimulus"], name="unique_study_stimulus")
        ]

    def __str__(self) -> str:
        return f"{self.study.slug}: {self.source} #{self.stimulus_id}"

    @property
    def source_key(self) -> str:
        """What balancing spreads evenly: the source, and the batch for machine excerpts."""
        return self.source if self.batch_id is None else f"{self.source}/{self.batch_id}"

    @staticmethod
    def source_of(stimulus: Stimulus) -> str:
        if stimulus.source_kind == Stimulus.SourceKind.HUMAN:
            return "human"
        return stimulus.source_label

    @staticmethod
    def batch_of(stimulus: Stimulus) -> GenerationBatch | None:
        if stimulus.source_kind == Stimulus.SourceKind.HUMAN:
            return None
        sample = stimulus.piece.generations.select_related("batch").order_by("batch_id").first()
        return sample.batch if sample else None
