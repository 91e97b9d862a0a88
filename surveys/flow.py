"""The participant's path through a study, as one function of their stored progress.

Every page asks `current_step` where the participant should be and redirects there when they
arrive elsewhere (a reload, the back button, a return visit), so a participant always resumes
where they left and never repeats or skips a step.

Places: consent takes one of the study's places (target plus overbooking) for the study's time
limit, and completing keeps it. Whatever changes how many places are taken (joining, taking a
lapsed place again, completing) first locks the study's row, so simultaneous participants are
counted one after another and the quota cannot overshoot.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from surveys import headphone
from surveys.assignment import (
    ATTENTION,
    HUMAN,
    MACHINE,
    PoolItem,
    choose_practice,
    draw_pairs,
    draw_trials,
)
from surveys.models import HeadphoneTrial, Participant, Study, StudyStimulus, Trial
from surveys.models.stimuli import new_token

CONSENT = "consent"
HEADPHONES = "headphones"
INSTRUCTIONS = "instructions"
TRIAL = "trial"
QUESTIONS = "questions"
DONE = "done"
SCREENED_OUT = "screened-out"
TIME_UP = "time-up"


class NotAccepting(Exception):
    """The study takes no one new: it is closed, or every place is taken (`full`)."""

    def __init__(self, full: bool):
        super().__init__("every place is taken" if full else "the study is not open")
        self.full = full


class AlreadyTaking(Exception):
    """A Prolific id that another consent took: its participant goes on where they started."""


def locate(participant: Participant) -> tuple[str, Trial | None]:
    """Where the participant belongs, and at the trial step which trial comes next."""
    if participant.completed_at:
        return DONE, None
    if not participant.consented_at:
        return CONSENT, None
    if participant.screened_out_at:
        return SCREENED_OUT, None
    if not participant.holds_place() and participant.study.is_full():
        return TIME_UP, None
    if participant.headphone_passed is None and participant.study.headphone_trials:
        return HEADPHONES, None
    if not participant.instructions_read_at:
        return INSTRUCTIONS, None
    trial = next_trial(participant)
    if trial is not None:
        return TRIAL, trial
    return QUESTIONS, None


def current_step(participant: Participant) -> str:
    return locate(participant)[0]


def next_trial(participant: Participant) -> Trial | None:
    """The first unanswered trial."""
    return next(iter(upcoming_trials(participant, 1)), None)


def upcoming_trials(participant: Participant, count: int, along: Sequence[str] = ()) -> list[Trial]:
    """The first `count` unanswered trials in order, each with the fields of related rows that
    `along` names (as "item__stimulus__duration_seconds") fetched in the same query.

    Only the named fields of related rows are loaded: an answer is scored on the busiest path
    of a study, and loading its excerpts and clip whole (some 60 columns through the joins) was
    about a third of an answer's CPU. Reading any other field of those rows costs a query.
    """
    unanswered = participant.trials.filter(answer__isnull=True).order_by("position")
    if along:
        related = {name.rsplit("__", 1)[0] for name in along}
        own = [field.attname for field in Trial._meta.concrete_fields]
        unanswered = unanswered.select_related(*related).only(*own, *along)
    return list(unanswered[:count])


def next_headphone_trial(participant: Participant) -> HeadphoneTrial | None:
    return participant.headphone_trials.filter(response__isnull=True).order_by("position").first()


def _lock_study(study_id: int) -> Study:
    """The study's row, locked until the transaction ends: the one queue for its places. The
    lock leaves foreign keys alone, so answers and trials go on being stored meanwhile."""
    return Study.objects.select_for_update(no_key=True).get(pk=study_id)


def _admit(study: Study) -> None:
    """Raises NotAccepting unless a new participant may take a place now (study locked)."""
    if study.state != Study.State.OPEN:
        raise NotAccepting(full=False)
    if study.is_full():
        raise NotAccepting(full=True)


def _record_consent(participant: Participant, study: Study) -> None:
    """Consent, the place it holds (never for a preview), and the headphone triplets laid out
    from the participant's seed; a study without headphone trials scores its screen at once."""
    now = timezone.now()
    participant.consented_at = now
    if not participant.preview:
        participant.reserved_until = now + study.time_limit
    if not study.headphone_trials:
        participant.headphone_correct = 0
        participant.headphone_passed = headphone.passed(0, study.rules["headphone_min_correct"])
    participant.save()
    layouts = headphone.draw_layouts(participant.seed, study.headphone_trials)
    HeadphoneTrial.objects.bulk_create(
        HeadphoneTrial(
            participant=participant,
            position=i + 1,
            quiet_position=layout.quiet,
            antiphase_position=layout.antiphase,
        )
        for i, layout in enumerate(layouts)
    )


def join(study: Study, prolific: dict[str, str], token: str = "") -> Participant:
    """A new participant, created by their consent and holding a place; NotAccepting, or
    AlreadyTaking for a Prolific id that another consent already took.

    ``token`` is the one the consent page offered: the same page posted again gets the row its
    first post made. A Prolific id is no secret (it travels in links, researchers see it), so
    it never hands over someone else's row: that takes their cookie or their resume link.
    """
    with transaction.atomic():
        locked = _lock_study(study.pk)
        if token and (again := locked.participants.filter(token=token).first()):
            return again
        pid = prolific.get("prolific_pid")
        if pid and locked.participants.filter(prolific_pid=pid, preview=False).exists():
            raise AlreadyTaking(pid)
        _admit(locked)
        participant = Participant(study=locked, **prolific)
        if token:  # signed for this study's consent page alone, so no other row holds it
            participant.token = token
        _record_consent(participant, locked)
    return participant


def consent(participant: Participant) -> None:
    """Consent for a row made before it: a researcher's preview, which takes no place."""
    with transaction.atomic():
        study = _lock_study(participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.consented_at:
            return
        if not locked.preview:
            _admit(study)
        _record_consent(locked, study)


def keep_place(participant: Participant) -> bool:
    """Whether the participant may go on: their place is still held, or it lapsed and the study
    still has room, in which case it is held again for another time limit."""
    if participant.holds_place():
        return True
    with transaction.atomic():
        study = _lock_study(participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if not locked.holds_place():
            if study.is_full():
                return False
            locked.reserved_until = timezone.now() + study.time_limit
            locked.save(update_fields=["reserved_until"])
    participant.reserved_until = locked.reserved_until
    return True


def listened_enough(
    shown_at: datetime | None, now: datetime, seconds: float, allowance: float
) -> bool:
    """Whether an answer arriving `now` may count: the trial page was first shown at least the
    sound's length ago, less an allowance. A page never shown cannot have been listened to."""
    if shown_at is None:
        return False
    return now - shown_at >= timedelta(seconds=seconds - allowance)


HEADPHONE_OUTCOME = ("headphone_correct", "headphone_passed", "screened_out_at", "reserved_until")


def answer_headphone(trial: HeadphoneTrial, response: int) -> Participant:
    """Store one headphone answer (the first one wins) and score the screen when all are in.
    A participant who fails is ended there when the study screens out, and their place freed.
    Returns the participant's row as the answer left it (read under its lock)."""
    layout = headphone.Layout(quiet=trial.quiet_position, antiphase=trial.antiphase_position)
    correct = headphone.is_correct(layout, response)
    with transaction.atomic():
        updated = HeadphoneTrial.objects.filter(pk=trial.pk, response__isnull=True).update(
            response=response, correct=correct, answered_at=timezone.now()
        )
        participant = Participant.objects.select_for_update().get(pk=trial.participant_id)
        if not updated or participant.headphone_passed is not None:
            return participant
        answers = participant.headphone_trials.values_list("correct", flat=True)
        if any(a is None for a in answers):
            return participant
        participant.headphone_correct = sum(answers)
        study = participant.study
        participant.headphone_passed = headphone.passed(
            participant.headphone_correct, study.rules["headphone_min_correct"]
        )
        if not participant.headphone_passed and study.headphone_screen_out:
            participant.screened_out_at = timezone.now()
            participant.reserved_until = None
        participant.save(update_fields=HEADPHONE_OUTCOME)
    return participant


def _exposures(study: Study) -> dict[int, int]:
    """Times each pool item was assigned to a counted participant, as excerpt A or B.

    Balance over counted participants: a researcher's previews must not push the excerpts they
    happened to hear to the back of real participants' queues."""
    counted = Trial.objects.filter(participant__study=study, participant__preview=False)
    exposures: dict[int, int] = {}
    for field in ("item_id", "item_b_id"):
        rows = counted.filter(**{f"{field}__isnull": False}).values_list(field)
        for item_id, n in rows.annotate(n=Count("id")).order_by():
            exposures[item_id] = exposures.get(item_id, 0) + n
    return exposures


def _practice(study: Study, items, assigned: set[int], exposures, seed: int) -> list[int]:
    """The practice excerpt (single design), or pair as [human, machine] (pair design): from the
    practice-only excerpts (of each kind, for a pair), else from pool excerpts the participant
    will not hear again; [] when there is none to spare."""

    def candidates(kinds: tuple[str, ...]) -> list[int]:
        of_kind = [it for it in items if it.source_kind in kinds]
        practice = [it.id for it in of_kind if it.role == StudyStimulus.Role.PRACTICE]
        return practice or [it.id for it in of_kind if it.role == StudyStimulus.Role.POOL]

    if not study.is_pair:
        chosen = choose_practice(candidates((HUMAN, MACHINE)), assigned, exposures, seed)
        return [] if chosen is None else [chosen]
    pair = [
        choose_practice(candidates((kind,)), assigned, exposures, seed) for kind in (HUMAN, MACHINE)
    ]
    return [] if None in pair else pair


def _new_trial(participant: Participant, position: int, kind: str, pair: bool, **fields) -> Trial:
    """A trial; a pair trial gets a second random address, for its excerpt B."""
    token_b = new_token() if pair else None
    return Trial(
        participant=participant, position=position, kind=kind, audio_token_b=token_b, **fields
    )


def assign_trials(participant: Participant) -> None:
    """Draw the participant's balanced set once (practice first) and mark the instructions read.

    Draws take turns on the study's row, so each counts the exposures of every draw before it:
    participants reading the instructions at the same moment would otherwise all pick the same
    least-heard excerpts."""
    with transaction.atomic():
        study = _lock_study(participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.trials_assigned_at:
            return
        items = list(study.items.all())
        exposures = _exposures(study)
        pool = [
            PoolItem(it.id, it.source_kind, it.source_key)
            for it in items
            if it.role == StudyStimulus.Role.POOL
        ]
        clips = list(study.attention_clips.filter(design=study.design).order_by("id"))
        draw = draw_pairs if study.is_pair else draw_trials
        slots = draw(
            pool,
            exposures,
            study.trials_per_participant,
            study.attention_checks,
            len(clips),
            locked.seed,
        )
        trials = []
        if study.practice_trial:
            assigned = {s.item_id for s in slots} | {s.item_b_id for s in slots}
            practice = _practice(study, items, assigned, exposures, locked.seed)
            if locked.seed & 1:
                practice.reverse()  # the practice pair's order, too, tells nothing
            if practice:
                trials.append(
                    _new_trial(
                        locked,
                        0,
                        Trial.Kind.PRACTICE,
                        study.is_pair,
                        item_id=practice[0],
                        item_b_id=practice[1] if study.is_pair else None,
                    )
                )
        for position, slot in enumerate(slots, start=1):
            if slot.kind == ATTENTION:
                clip = clips[slot.attention_index]
                trials.append(
                    _new_trial(
                        locked, position, Trial.Kind.ATTENTION, study.is_pair, attention_clip=clip
                    )
                )
            else:
                trials.append(
                    _new_trial(
                        locked,
                        position,
                        Trial.Kind.EXPERIMENTAL,
                        study.is_pair,
                        item_id=slot.item_id,
                        item_b_id=slot.item_b_id,
                    )
                )
        Trial.objects.bulk_create(trials)
        now = timezone.now()
        locked.trials_assigned_at = now
        locked.instructions_read_at = now
        locked.save(update_fields=["trials_assigned_at", "instructions_read_at"])


def complete(participant: Participant) -> bool:
    """Close the participant's session: attention outcome, exclusion under the frozen rules.
    False, and nothing done, when their place lapsed and the study has filled meanwhile."""
    with transaction.atomic():
        study = _lock_study(participant.study_id)
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.completed_at:
            return True
        if not locked.holds_place() and study.is_full():
            return False
        checks = locked.answers.filter(trial__kind=Trial.Kind.ATTENTION)
        locked.attention_failed = checks.filter(correct=False).count()
        allowed = locked.study.rules["attention_max_failed"]
        locked.attention_passed = locked.attention_failed <= allowed
        locked.completed_at = timezone.now()
        locked.decide_exclusion()
        locked.save()
    return True
