"""The participant's path through a study, as one function of their stored progress.

Every page asks `current_step` where the participant should be and redirects there when they
arrive elsewhere (a reload, the back button, a return visit), so a participant always resumes
where they left and never repeats or skips a step.
"""

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from surveys import headphone
from surveys.assignment import ATTENTION, PoolItem, choose_practice, draw_trials
from surveys.models import HeadphoneTrial, Participant, StudyStimulus, Trial

CONSENT = "consent"
HEADPHONES = "headphones"
INSTRUCTIONS = "instructions"
TRIAL = "trial"
QUESTIONS = "questions"
DONE = "done"


def current_step(participant: Participant) -> str:
    if participant.completed_at:
        return DONE
    if not participant.consented_at:
        return CONSENT
    if participant.headphone_passed is None and participant.study.headphone_trials:
        return HEADPHONES
    if not participant.instructions_read_at:
        return INSTRUCTIONS
    if next_trial(participant) is not None:
        return TRIAL
    return QUESTIONS


def next_trial(participant: Participant) -> Trial | None:
    return participant.trials.filter(answer__isnull=True).order_by("position").first()


def next_headphone_trial(participant: Participant) -> HeadphoneTrial | None:
    return participant.headphone_trials.filter(response__isnull=True).order_by("position").first()


def consent(participant: Participant) -> None:
    """Record consent and lay out the headphone triplets from the participant's seed."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.consented_at:
            return
        layouts = headphone.draw_layouts(locked.seed, locked.study.headphone_trials)
        HeadphoneTrial.objects.bulk_create(
            HeadphoneTrial(
                participant=locked,
                position=i + 1,
                quiet_position=layout.quiet,
                antiphase_position=layout.antiphase,
            )
            for i, layout in enumerate(layouts)
        )
        locked.consented_at = timezone.now()
        locked.save(update_fields=["consented_at"])


def answer_headphone(trial: HeadphoneTrial, response: int) -> None:
    """Store one headphone answer (the first one wins) and score the screen when all are in."""
    layout = headphone.Layout(quiet=trial.quiet_position, antiphase=trial.antiphase_position)
    correct = headphone.is_correct(layout, response)
    with transaction.atomic():
        updated = HeadphoneTrial.objects.filter(pk=trial.pk, response__isnull=True).update(
            response=response, correct=correct, answered_at=timezone.now()
        )
        participant = Participant.objects.select_for_update().get(pk=trial.participant_id)
        if not updated or participant.headphone_passed is not None:
            return
        answers = participant.headphone_trials.values_list("correct", flat=True)
        if any(a is None for a in answers):
            return
        participant.headphone_correct = sum(answers)
        participant.headphone_passed = headphone.passed(
            participant.headphone_correct, participant.study.rules["headphone_min_correct"]
        )
        participant.save(update_fields=["headphone_correct", "headphone_passed"])


def assign_trials(participant: Participant) -> None:
    """Draw the participant's balanced set once (practice first) and mark the instructions read."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.trials_assigned_at:
            return
        study = locked.study
        items = list(study.items.all())
        # Balance over counted participants: a researcher's previews must not push the excerpts
        # they happened to hear to the back of real participants' queues.
        exposures = dict(
            Trial.objects.filter(item__study=study, participant__preview=False)
            .values_list("item_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        pool = [
            PoolItem(it.id, it.source_kind, it.source_key)
            for it in items
            if it.role == StudyStimulus.Role.POOL
        ]
        clips = list(study.attention_clips.order_by("id"))
        slots = draw_trials(
            pool,
            exposures,
            study.trials_per_participant,
            study.attention_checks,
            len(clips),
            locked.seed,
        )
        trials = []
        if study.practice_trial:
            practice_pool = [it.id for it in items if it.role == StudyStimulus.Role.PRACTICE]
            candidates = practice_pool or [p.id for p in pool]
            assigned = {s.item_id for s in slots}
            practice = choose_practice(candidates, assigned, exposures, locked.seed)
            if practice is not None:
                first = Trial(participant=locked, position=0, kind=Trial.Kind.PRACTICE)
                first.item_id = practice
                trials.append(first)
        for position, slot in enumerate(slots, start=1):
            if slot.kind == ATTENTION:
                trials.append(
                    Trial(
                        participant=locked,
                        position=position,
                        kind=Trial.Kind.ATTENTION,
                        attention_clip=clips[slot.attention_index],
                    )
                )
            else:
                trials.append(
                    Trial(
                        participant=locked,
                        position=position,
                        kind=Trial.Kind.EXPERIMENTAL,
                        item_id=slot.item_id,
                    )
                )
        Trial.objects.bulk_create(trials)
        now = timezone.now()
        locked.trials_assigned_at = now
        locked.instructions_read_at = now
        locked.save(update_fields=["trials_assigned_at", "instructions_read_at"])


def complete(participant: Participant) -> None:
    """Close the participant's session: attention outcome, exclusion under the frozen rules."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.completed_at:
            return
        checks = locked.answers.filter(trial__kind=Trial.Kind.ATTENTION)
        locked.attention_failed = checks.filter(correct=False).count()
        allowed = locked.study.rules["attention_max_failed"]
        locked.attention_passed = locked.attention_failed <= allowed
        locked.completed_at = timezone.now()
        locked.decide_exclusion()
        locked.save()
