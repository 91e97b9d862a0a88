"""Participants who left before the end: their partial answers follow the study's rules."""

import pytest
from django.test import Client

from evaluation import tidy
from evaluation.dataset import answer_tables
from surveys.models import Participant
from tests.surveys.factories import open_study
from tests.surveys.helpers import participant_of, take_study

pytestmark = pytest.mark.django_db


def test_answers_of_someone_who_did_not_finish_are_excluded_when_completion_is_required():
    study = open_study(slug="left-early", trials=4, attention=0)
    assert study.rules["require_completed"]
    for _ in range(2):
        take_study(Client(), study.slug)
    leaver = Client()
    take_study(leaver, study.slug)
    # As if they had closed the page before the questionnaire, their trials all answered.
    left = participant_of(leaver, study.slug)
    Participant.objects.filter(pk=left.pk).update(
        completed_at=None, excluded=False, exclusion_reason=""
    )
    frame, funnel = answer_tables(study)
    theirs = frame[frame[tidy.PARTICIPANT] == str(left.pk)]
    assert len(theirs) == 4
    assert not theirs[tidy.COMPLETED].any() and theirs[tidy.EXCLUDED].all()
    assert set(theirs[tidy.EXCLUSION_REASON]) == {"did not complete"}
    others = frame[frame[tidy.PARTICIPANT] != str(left.pk)]
    assert others[tidy.COMPLETED].all()
    assert funnel[tidy.COMPLETED].sum() == 2
