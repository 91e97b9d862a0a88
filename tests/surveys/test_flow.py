"""The participant flow through Django's test client: order, resume, integrity, politeness."""

import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from surveys.models import Answer, Participant, Study, Trial
from surveys.views.participant import ANSWERED_ELSEWHERE
from tests.surveys.factories import draft_study, open_study
from tests.surveys.helpers import (
    ANSWER,
    QUESTIONNAIRE,
    agree,
    answer_sound_check,
    follow,
    participant_of,
    take_study,
)

pytestmark = pytest.mark.django_db


def test_a_participant_goes_from_link_to_completion_code():
    study = open_study(completion_url="https://app.prolific.com/submissions/complete?cc={code}")
    client = Client()
    query = "?PROLIFIC_PID=pid123&STUDY_ID=st9&SESSION_ID=se7"
    response = take_study(client, study.slug, query)
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/done/"
    assert study.completion_code in response.content.decode()
    assert f"cc={study.completion_code}" in response.content.decode()
    participant = participant_of(client, study.slug)
    assert (participant.prolific_pid, participant.prolific_study_id) == ("pid123", "st9")
    assert participant.prolific_session_id == "se7"
    assert participant.completed and participant.consented
    assert participant.gold_msi_training == 7.0 + 2 * 6  # reversed items answered "disagree"
    assert participant.non_musician is True
    trials = list(participant.trials.order_by("position"))
    assert [t.kind for t in trials].count("practice") == 1
    assert [t.kind for t in trials].count("attention") == 1
    experimental = [t for t in trials if t.kind == "experimental"]
    assert sorted(t.item.source_kind for t in experimental) == ["human"] * 2 + ["machine"] * 2
    assert Answer.objects.filter(participant=participant).count() == len(trials)
    answer = Answer.objects.get(trial=experimental[0])
    assert (answer.response_ms, answer.listening_ms, answer.plays) == (900, 600, 1)
    assert answer.correct == (experimental[0].item.source_kind == "human")


def test_attention_outcome_and_exclusion_follow_the_frozen_rules():
    study = open_study(exclusion_rules={"headphone_min_correct": 0, "attention_max_failed": 0})
    client = Client()
    take_study(client, study.slug)
    participant = participant_of(client, study.slug)
    check = participant.trials.get(kind="attention")
    expected_fail = not check.attention_clip.expected_judged_human  # everyone answered "a person"
    assert participant.attention_passed is not expected_fail
    assert participant.excluded is expected_fail
    assert participant.exclusion_reason == ("failed attention checks" if expected_fail else "")


def test_rules_are_frozen_when_the_study_opens():
    study = open_study()
    assert study.frozen_rules["headphone_min_correct"] == 0
    study.exclusion_rules = {"headphone_min_correct": 6}
    with pytest.raises(ValidationError, match="fixed"):
        study.save()
    with pytest.raises(ValidationError, match="cannot change"):
        study.add_stimuli(Trial.objects.none())


def test_a_study_whose_rules_exclude_everyone_cannot_open():
    study = draft_study(headphone_trials=3, exclusion_rules={"headphone_min_correct": 5})
    with pytest.raises(ValidationError) as error:
        study.open()
    assert error.value.messages == [
        "The rules need 5 headphone trials answered correctly, but the study has 3: "
        "set headphone_min_correct to 3 or less, or add headphone trials."
    ]
    assert Study.objects.get(pk=study.pk).state == Study.State.DRAFT


def test_a_study_with_too_small_a_pool_cannot_open():
    study = Study.objects.create(slug="tiny", title="t", consent_text="c", trials_per_participant=4)
    with pytest.raises(ValidationError) as error:
        study.open()
    assert any("human excerpts" in m for m in error.value.messages)
    assert Study.objects.get(pk=study.pk).state == Study.State.DRAFT


def test_a_returning_participant_resumes_where_they_left():
    study = open_study()
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    participant = participant_of(client, study.slug)
    for trial in participant.headphone_trials.all():
        answer_sound_check(client, study.slug, "1")
        assert trial
    response = follow(client, f"/s/{study.slug}/instructions/", {})
    first = response.request["PATH_INFO"]
    follow(client, first, ANSWER)
    # Same cookie: the link leads to the next unanswered trial, the old one is not shown again.
    again = follow(client, f"/s/{study.slug}/")
    assert again.request["PATH_INFO"] not in (first, f"/s/{study.slug}/consent/")
    assert follow(client, first).request["PATH_INFO"] == again.request["PATH_INFO"]
    # A new device with the resume link, or the same Prolific id, finds the same participant.
    other = Client()
    moved = follow(other, f"/s/{study.slug}/r/{participant.token}/")
    assert moved.request["PATH_INFO"] == again.request["PATH_INFO"]
    assert Participant.objects.filter(study=study).count() == 1


def test_a_prolific_id_alone_never_opens_someone_elses_session():
    # A Prolific id is no secret: following the link with it, without the participant's cookie,
    # neither resumes their session nor starts a second one.
    study = open_study()
    owner, stranger = Client(), Client()
    agree(owner, follow(owner, f"/s/{study.slug}/?PROLIFIC_PID=abc"))
    refused = stranger.get(f"/s/{study.slug}/?PROLIFIC_PID=abc")
    assert refused.status_code == 409
    assert b"You have already started this study" in refused.content
    assert not stranger.cookies.get(f"p_{study.slug}")
    participant = Participant.objects.get(study=study)
    assert participant.token.encode() not in refused.content
    # Its owner goes on, in the same browser or through the resume link on another device.
    assert follow(owner, f"/s/{study.slug}/").request["PATH_INFO"].endswith("/headphones/")
    moved = follow(Client(), f"/s/{study.slug}/r/{participant.token}/")
    assert moved.request["PATH_INFO"].endswith("/headphones/")
    # Two devices that both showed the consent page before either consented: the second is
    # refused, and its stray spaces do not make the id another one.
    devices = [Client(), Client()]
    pages = [follow(devices[0], f"/s/{study.slug}/?PROLIFIC_PID=xyz")]
    pages.append(follow(devices[1], f"/s/{study.slug}/?PROLIFIC_PID=%20xyz%20"))
    agree(devices[0], pages[0])
    late = {"agree": "on", "start": pages[1].context["form"]["start"].value()}
    assert devices[1].post(f"/s/{study.slug}/consent/", late).status_code == 409
    assert Participant.objects.filter(study=study, prolific_pid__contains="xyz").count() == 1


def test_one_consent_page_posted_twice_is_one_participant():
    study = open_study()
    client = Client()
    page = follow(client, f"/s/{study.slug}/")  # no Prolific id: the page's token alone tells
    start = page.context["form"]["start"].value()
    first = client.post(f"/s/{study.slug}/consent/", {"agree": "on", "start": start})
    client.cookies.clear()  # the double tap's second request left before the first's cookie came
    second = client.post(f"/s/{study.slug}/consent/", {"agree": "on", "start": start})
    assert first.status_code == second.status_code == 302
    assert first.cookies[f"p_{study.slug}"].value == second.cookies[f"p_{study.slug}"].value
    assert Participant.objects.filter(study=study).count() == 1


def test_a_retry_never_adds_an_answer_nor_replaces_the_first():
    study = open_study()
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    for _ in range(study.headphone_trials):
        answer_sound_check(client, study.slug, "2")
    response = follow(client, f"/s/{study.slug}/instructions/", {})
    url = response.request["PATH_INFO"]
    follow(client, url, {**ANSWER, "request_id": "first"})
    # The page's own retry after a lost reply goes on in silence.
    retried = follow(client, url, {**ANSWER, "request_id": "first"})
    assert ANSWERED_ELSEWHERE not in retried.content.decode()
    # A different answer from another tab is dropped, and the participant is told.
    other = {**ANSWER, "judgment": "computer", "confidence": "1", "request_id": "second"}
    told = follow(client, url, other)
    assert ANSWERED_ELSEWHERE in told.content.decode()
    participant = participant_of(client, study.slug)
    answers = Answer.objects.filter(participant=participant)
    assert answers.count() == 1
    assert answers.get().judged_human is True and answers.get().confidence == 4


def test_garbage_answers_are_refused_and_change_nothing():
    study = open_study()
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    for _ in range(study.headphone_trials):
        answer_sound_check(client, study.slug, "2")
    url = follow(client, f"/s/{study.slug}/instructions/", {}).request["PATH_INFO"]
    bad = client.post(url, {**ANSWER, "confidence": "9", "judgment": "robot"})
    assert bad.status_code == 400
    assert b"Please answer all three questions" in bad.content
    assert not Answer.objects.exists()


def test_consent_is_required_before_anything_else():
    study = open_study()
    client = Client()
    follow(client, f"/s/{study.slug}/")
    response = client.post(f"/s/{study.slug}/consent/", {})
    assert response.status_code == 200 and b"tick the box" in response.content
    skipped = follow(client, f"/s/{study.slug}/t/1/")
    assert skipped.request["PATH_INFO"] == f"/s/{study.slug}/consent/"


def test_closed_and_full_studies_say_so_politely():
    study = open_study()
    study.close()
    response = Client().get(f"/s/{study.slug}/")
    assert response.status_code == 200 and b"study is closed" in response.content
    full = open_study(slug="full", target_participants=1)
    take_study(Client(), full.slug)
    response = Client().get(f"/s/{full.slug}/")
    assert b"has all the participants it needs" in response.content
    assert Client().get("/s/no-such-study/").status_code == 404


def test_someone_already_taking_a_closed_study_may_finish():
    study = open_study()
    taking, reading = Client(), Client()
    agree(taking, follow(taking, f"/s/{study.slug}/"))
    consent_page = follow(reading, f"/s/{study.slug}/")
    study.close()
    response = answer_sound_check(taking, study.slug, "1")
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/headphones/"
    # Someone still reading the consent page is told, and nothing is stored for them.
    refused = agree(reading, consent_page)
    assert b"study is closed" in refused.content
    assert Participant.objects.filter(study=study).count() == 1


def test_anonymous_posts_are_rate_limited(settings):
    settings.SURVEY_RATE_PER_PARTICIPANT = 5
    study = open_study()
    client = Client()
    agree(client, follow(client, f"/s/{study.slug}/"))
    codes = [client.post(f"/s/{study.slug}/headphones/", {}).status_code for _ in range(8)]
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429] * 3
    assert client.post(f"/s/{study.slug}/headphones/", {}).has_header("Retry-After")


def test_an_address_is_rate_limited_before_anyone_consents(settings):
    settings.SURVEY_RATE_PER_IP = 3
    study = open_study()
    codes = [Client().post(f"/s/{study.slug}/consent/", {}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_a_rate_window_opens_with_the_first_post_and_ends_when_it_ends(settings):
    settings.SURVEY_RATE_PER_IP = 2
    settings.SURVEY_RATE_WINDOW_SECONDS = 1
    study = open_study()
    post = lambda: Client().post(f"/s/{study.slug}/consent/", {}).status_code  # noqa: E731
    assert [post(), post(), post()] == [200, 200, 429]
    time.sleep(1.2)  # the window has ended: the address counts afresh
    assert [post(), post(), post()] == [200, 200, 429]


def at_the_questionnaire() -> tuple[Study, Client]:
    """A participant who has answered every trial of a study without checks."""
    study = open_study(attention=0, headphone_trials=0, practice_trial=False)
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    response = follow(client, f"/s/{study.slug}/instructions/", {})
    while "/t/" in response.request["PATH_INFO"]:
        response = follow(client, response.request["PATH_INFO"], ANSWER)
    return study, client


def test_questionnaire_rejects_missing_answers():
    study, client = at_the_questionnaire()
    bad = client.post(f"/s/{study.slug}/questions/", {**QUESTIONNAIRE, "mt3": ""})
    assert b"Please check the answers marked below" in bad.content
    assert not participant_of(client, study.slug).completed
    negative = {**QUESTIONNAIRE, "musical_training_years": "-1"}
    bad = client.post(f"/s/{study.slug}/questions/", negative)
    assert b"Please write 0 or more years (0 if never)." in bad.content
    assert b"Ensure this value" not in bad.content
    assert not participant_of(client, study.slug).completed
    for typed in ("1.5.2", "1,5,2", "1 1/2", "1,000"):
        bad = client.post(
            f"/s/{study.slug}/questions/", {**QUESTIONNAIRE, "musical_training_years": typed}
        )
        assert b"Please write a number of years, such as 0, 2 or 3.5." in bad.content


def test_years_written_with_a_decimal_comma_are_read_as_meant():
    study, client = at_the_questionnaire()
    page = client.get(f"/s/{study.slug}/questions/").content.decode()
    assert re.search(
        r'<input type="text" name="musical_training_years"[^>]*inputmode="decimal"', page
    )
    client.post(f"/s/{study.slug}/questions/", {**QUESTIONNAIRE, "musical_training_years": "1,5"})
    participant = participant_of(client, study.slug)
    assert participant.completed and participant.musical_training_years == 1.5
