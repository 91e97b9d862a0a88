"""The server holds participants to listening (an answer sooner than the excerpt lasts is
refused, the choices kept) and ends the study at a failed headphone check when the study says so."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from surveys import headphone
from surveys.models import Answer, HeadphoneTrial, Participant, Stimulus, Trial
from tests.conftest import make_researcher
from tests.surveys.factories import open_study
from tests.surveys.helpers import (
    ANSWER,
    agree,
    answer_sound_check,
    follow,
    participant_of,
    take_study,
)

pytestmark = pytest.mark.django_db

LONG = 10.0  # seconds: each excerpt lasts this long in these tests
PROLIFIC = "https://app.prolific.com/submissions/complete?cc={code}"


def _first_trial(study) -> tuple[Client, Trial]:
    client = Client()
    agree(client, follow(client, f"/s/{study.slug}/"))
    follow(client, f"/s/{study.slug}/instructions/", {})
    return client, Trial.objects.get(participant=participant_of(client, study.slug), position=0)


def _shown_ago(trial: Trial, seconds: float) -> None:
    Trial.objects.filter(pk=trial.pk).update(
        first_shown_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_an_answer_sooner_than_the_excerpt_lasts_is_refused_with_the_choices_kept():
    study = open_study(headphone_trials=0, attention=0)
    Stimulus.objects.update(duration_seconds=LONG)
    client, trial = _first_trial(study)
    url = f"/s/{study.slug}/t/{trial.position}/"
    early = client.post(url, {**ANSWER, "judgment": "computer", "confidence": "2"})
    assert early.status_code == 400
    page = early.content.decode()
    assert "Please listen to the whole excerpt" in page
    assert 'value="computer" required checked' in page
    assert 'name="confidence" value="2" required checked' in page
    assert 'name="musicality" value="3" required checked' in page
    assert not Answer.objects.exists()
    _shown_ago(trial, LONG - 0.5)  # within the allowance (one second by default)
    assert client.post(url, ANSWER).status_code == 302
    assert Answer.objects.get().trial == trial


def test_an_answer_to_a_page_never_shown_is_refused_and_the_page_counts_as_shown_now():
    study = open_study(headphone_trials=0, attention=0)
    Stimulus.objects.update(duration_seconds=LONG)
    client, trial = _first_trial(study)
    Trial.objects.filter(pk=trial.pk).update(first_shown_at=None)
    url = f"/s/{study.slug}/t/{trial.position}/"
    assert client.post(url, ANSWER).status_code == 400
    trial.refresh_from_db()
    assert trial.first_shown_at is not None
    assert not Answer.objects.exists()


def test_the_allowance_is_a_setting(settings):
    settings.SURVEY_LISTEN_ALLOWANCE_MS = int(LONG * 1000)
    study = open_study(headphone_trials=0, attention=0)
    Stimulus.objects.update(duration_seconds=LONG)
    client, trial = _first_trial(study)
    assert client.post(f"/s/{study.slug}/t/{trial.position}/", ANSWER).status_code == 302


def test_a_sound_check_answered_before_its_tones_end_is_refused_with_the_choice_kept():
    study = open_study(headphone_trials=2, attention=0)
    client = Client()
    agree(client, follow(client, f"/s/{study.slug}/"))
    url = f"/s/{study.slug}/headphones/"
    early = client.post(url, {"response": "2"})  # a script that never loaded the page
    assert early.status_code == 400
    page = early.content.decode()
    assert "Please listen to all three tones" in page
    assert 'name="response" value="2" required checked' in page
    first = HeadphoneTrial.objects.get(position=1)
    assert first.response is None and first.first_shown_at is not None
    assert client.post(url, {"response": "2"}).status_code == 400  # shown a moment ago
    HeadphoneTrial.objects.filter(pk=first.pk).update(
        first_shown_at=timezone.now() - timedelta(seconds=headphone.TRIPLET_SECONDS - 0.5)
    )
    assert client.post(url, {"response": "2"}).status_code == 302  # within the allowance
    first.refresh_from_db()
    assert first.response == 2
    assert follow(client, url).request["PATH_INFO"] == url  # on to the second sound check


def _fail_headphones(client: Client, slug: str):
    participant = participant_of(client, slug)
    response = None
    for trial in HeadphoneTrial.objects.filter(participant=participant):
        wrong = trial.antiphase_position
        response = answer_sound_check(client, slug, wrong)
    return response


def test_a_failed_headphone_check_ends_the_study_with_its_own_code():
    study = open_study(
        target_participants=1,
        headphone_trials=2,
        exclusion_rules={"headphone_min_correct": 2},
        screen_out_message="Sorry: this study needs headphones.",
        screen_out_url=PROLIFIC,
        completion_url=PROLIFIC,
    )
    client = Client()
    agree(client, follow(client, f"/s/{study.slug}/?PROLIFIC_PID=p1"))
    response = _fail_headphones(client, study.slug)
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/screened-out/"
    page = response.content.decode()
    assert "this study needs headphones" in page
    assert f'href="{PROLIFIC.replace("{code}", study.screen_out_code)}"' in page
    assert study.completion_code not in page
    participant = participant_of(client, study.slug)
    assert participant.screened_out_at and participant.headphone_passed is False
    assert not participant.trials.exists() and not participant.completed
    # The place is given back, and every step now leads to the screen-out page.
    assert study.accepting()
    again = follow(client, f"/s/{study.slug}/instructions/", {})
    assert again.request["PATH_INFO"] == f"/s/{study.slug}/screened-out/"


def test_without_screening_a_failed_check_goes_on_and_is_excluded_at_the_end():
    study = open_study(
        headphone_trials=2,
        exclusion_rules={"headphone_min_correct": 2},
        headphone_screen_out=False,
    )
    client = Client()
    agree(client, follow(client, f"/s/{study.slug}/"))
    response = _fail_headphones(client, study.slug)
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/instructions/"


def test_a_preview_screened_out_is_shown_the_link_but_not_sent():
    study = open_study(
        headphone_trials=1, exclusion_rules={"headphone_min_correct": 1}, screen_out_url=PROLIFIC
    )
    researcher = Client()
    researcher.force_login(make_researcher("ada", password="pw-long-enough-1"))
    researcher.post(f"/dashboard/studies/{study.slug}/preview/")
    follow(researcher, f"/s/{study.slug}/consent/", {"agree": "on"})
    page = _fail_headphones(researcher, study.slug).content.decode()
    assert "a preview does not go there" in page and 'href="https://app.prolific' not in page
    assert Participant.objects.get().preview


def test_a_study_without_headphone_trials_keeps_everyone_under_its_rules():
    study = open_study(headphone_trials=0, attention=0)
    client = Client()
    take_study(client, study.slug)
    participant = participant_of(client, study.slug)
    assert participant.headphone_passed is True and participant.headphone_correct == 0
    assert not participant.excluded, participant.exclusion_reason
