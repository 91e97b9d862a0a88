"""Places in a study: taken at consent, kept by completing, given back when the time limit runs
out; the quota counts completions plus places held, with an optional overbooking allowance."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from surveys.models import Answer, Participant
from tests.surveys.factories import open_study
from tests.surveys.helpers import (
    ANSWER,
    QUESTIONNAIRE,
    agree,
    finish_study,
    follow,
    participant_of,
    take_study,
)

FULL = b"has all the participants it needs"


def _join(slug: str) -> Client:
    client = Client()
    agree(client, follow(client, f"/s/{slug}/"))
    return client


def _lapse(client: Client, slug: str) -> None:
    participant = participant_of(client, slug)
    participant.reserved_until = timezone.now() - timedelta(seconds=1)
    participant.save(update_fields=["reserved_until"])


@pytest.mark.django_db
def test_a_full_study_says_so_before_anyone_consents():
    study = open_study(target_participants=1, overbooking=1)
    _join(study.slug)
    _join(study.slug)
    assert study.places_taken() == 2 and not study.accepting()
    late = Client()
    entry = late.get(f"/s/{study.slug}/")
    assert entry.status_code == 200 and FULL in entry.content
    assert FULL in late.get(f"/s/{study.slug}/consent/").content
    assert Participant.objects.count() == 2


@pytest.mark.django_db
def test_someone_on_the_consent_page_when_it_fills_is_told_and_stored_nowhere():
    study = open_study(target_participants=1)
    reader = Client()
    consent_page = follow(reader, f"/s/{study.slug}/")
    _join(study.slug)
    refused = agree(reader, consent_page)
    assert FULL in refused.content
    assert f"p_{study.slug}" not in reader.cookies
    assert Participant.objects.count() == 1


@pytest.mark.django_db
def test_a_lapsed_place_goes_to_someone_else_and_its_holder_is_told_politely():
    study = open_study(target_participants=1, time_limit_minutes=30)
    slow = _join(study.slug)
    _lapse(slow, study.slug)
    assert study.places_taken() == 0 and study.accepting()
    take_study(Client(), study.slug)
    assert study.completed_count() == 1
    response = follow(slow, f"/s/{study.slug}/headphones/")
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/time-up/"
    assert b"30 minutes" in response.content
    posted = follow(slow, f"/s/{study.slug}/headphones/", {"response": "1"})
    assert posted.request["PATH_INFO"] == f"/s/{study.slug}/time-up/"


@pytest.mark.django_db
def test_a_lapsed_place_is_taken_again_while_the_study_has_room():
    study = open_study(target_participants=2, headphone_trials=0, attention=0)
    client = _join(study.slug)
    _lapse(client, study.slug)
    response = follow(client, f"/s/{study.slug}/instructions/", {})
    assert "/t/" in response.request["PATH_INFO"]
    assert participant_of(client, study.slug).holds_place()


@pytest.mark.django_db
def test_answers_are_kept_when_a_place_lapses_in_a_full_study():
    study = open_study(target_participants=1, headphone_trials=0, attention=0)
    slow = _join(study.slug)
    trial_page = follow(slow, f"/s/{study.slug}/instructions/", {})
    _lapse(slow, study.slug)
    take_study(Client(), study.slug)
    response = follow(slow, trial_page.request["PATH_INFO"], ANSWER)
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/time-up/"
    assert Answer.objects.filter(participant=participant_of(slow, study.slug)).count() == 1


@pytest.mark.django_db
def test_completion_needs_a_place_so_the_quota_holds_to_the_last_page():
    study = open_study(target_participants=1, headphone_trials=0, attention=0)
    slow = _join(study.slug)
    response = follow(slow, f"/s/{study.slug}/instructions/", {})
    while "/t/" in response.request["PATH_INFO"]:
        response = follow(slow, response.request["PATH_INFO"], ANSWER)
    _lapse(slow, study.slug)
    take_study(Client(), study.slug)
    refused = follow(slow, f"/s/{study.slug}/questions/", QUESTIONNAIRE)
    assert refused.request["PATH_INFO"] == f"/s/{study.slug}/time-up/"
    assert study.completed_count() == 1


@pytest.mark.django_db
def test_a_completed_participant_keeps_their_place_past_the_time_limit():
    study = open_study(target_participants=1)
    client = Client()
    take_study(client, study.slug)
    _lapse(client, study.slug)
    assert study.places_taken() == 1 and not study.accepting()


@pytest.mark.django_db
def test_previews_take_no_place():
    study = open_study(target_participants=1)
    Participant.objects.create(study=study, preview=True, consented_at=timezone.now())
    assert study.places_taken() == 0 and study.accepting()


N_PEOPLE = 60
TARGET = 20
OVERBOOKING = 2


@pytest.mark.django_db(transaction=True)
def test_sixty_people_starting_at_once_cannot_overshoot_a_quota_of_twenty(settings):
    """Each person opens the link, then all consent at the same moment and go on to the end."""
    settings.SURVEY_RATE_PER_IP = 100_000  # one test address stands for sixty people
    settings.SURVEY_JOINS_PER_IP = 100_000
    study = open_study(target_participants=TARGET, overbooking=OVERBOOKING)
    people = [Client() for _ in range(N_PEOPLE)]
    pages = [follow(person, f"/s/{study.slug}/") for person in people]
    start = threading.Barrier(N_PEOPLE)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def take_part(person: Client, consent_page) -> None:
        try:
            start.wait()
            response = agree(person, consent_page)
            if FULL in response.content:
                outcomes.append("turned away")
                return
            finish_study(person, study.slug)
            outcomes.append("completed")
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=take_part, args=pair) for pair in zip(people, pages, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors[0]
    assert outcomes.count("completed") == TARGET + OVERBOOKING
    assert outcomes.count("turned away") == N_PEOPLE - TARGET - OVERBOOKING
    assert study.completed_count() == TARGET + OVERBOOKING
    assert Participant.objects.filter(study=study).count() == TARGET + OVERBOOKING


@pytest.mark.django_db
def test_one_address_cannot_take_every_place(settings):
    # A script consenting again and again, a fresh cookie each time, from one address.
    settings.SURVEY_JOINS_PER_IP = 3
    study = open_study(target_participants=10)
    for _ in range(3):
        _join(study.slug)
    script = Client()
    refused = script.post(
        f"/s/{study.slug}/consent/",
        {
            "agree": "on",
            "start": follow(script, f"/s/{study.slug}/").context["form"]["start"].value(),
        },
    )
    assert refused.status_code == 429 and b"Please try again later" in refused.content
    assert study.participants.count() == 3
    elsewhere = Client(REMOTE_ADDR="198.51.100.40")
    agree(elsewhere, follow(elsewhere, f"/s/{study.slug}/"))
    assert study.participants.count() == 4
