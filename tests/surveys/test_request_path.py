"""What each step of the survey costs a participant and the server: redirects that lead straight
to the next step, and a bounded number of queries per trial page and answer, none of which joins
the participant's study to sort its trials (that join once cost a fifth of the CPU under load)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys import headphone
from surveys.models import Answer, HeadphoneTrial
from tests.surveys.factories import open_study
from tests.surveys.helpers import (
    ANSWER,
    PAIR_ANSWER,
    QUESTIONNAIRE,
    answer_sound_check,
    follow,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _answers_without_listening(settings):
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 60_000


def _to_instructions(client: Client, slug: str) -> None:
    page = follow(client, f"/s/{slug}/")
    follow(client, page.request["PATH_INFO"], {"agree": "on"})
    while True:
        page = answer_sound_check(client, slug, "1")
        if page.request["PATH_INFO"].endswith("/instructions/"):
            return


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The SQL a request ran, less the savepoints of the test's own transaction."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


def test_each_post_redirects_straight_to_the_next_step():
    study = open_study(practice_trial=True)
    client = Client()
    _to_instructions(client, study.slug)
    response = client.post(f"/s/{study.slug}/instructions/", {})
    assert response["Location"] == f"/s/{study.slug}/t/0/"
    url = response["Location"]
    while "/t/" in url:
        client.get(url)
        url = client.post(url, ANSWER)["Location"]
    assert url == f"/s/{study.slug}/questions/"
    response = client.post(url, QUESTIONNAIRE)
    assert response["Location"] == f"/s/{study.slug}/done/"


def test_the_counter_counts_excerpts_and_attention_checks_but_not_the_practice():
    study = open_study(trials=4, attention=1, practice_trial=True)
    client = Client()
    _to_instructions(client, study.slug)
    page = follow(client, f"/s/{study.slug}/instructions/", {})
    titles = []
    while "/t/" in page.request["PATH_INFO"]:
        titles.append(re.search(r"<title>([^·<]+)", page.content.decode())[1].strip())
        page = follow(client, page.request["PATH_INFO"], ANSWER)
    assert titles == ["Practice", *(f"Excerpt {n} of 5" for n in range(1, 6))]


def test_a_trial_page_and_an_answer_take_few_queries_and_never_sort_through_the_study():
    study = open_study(trials=4, attention=0)
    client = Client()
    _to_instructions(client, study.slug)
    url = client.post(f"/s/{study.slug}/instructions/", {})["Location"]
    client.get(url)  # the first page also asks, once a minute, whether every sound has an Ogg
    url = client.post(url, ANSWER)["Location"]
    with CaptureQueriesContext(connection) as page_queries:
        client.get(url)
    with CaptureQueriesContext(connection) as answer_queries:
        assert client.post(url, ANSWER).status_code == 302
    page, answer = _statements(page_queries), _statements(answer_queries)
    assert len(page) <= 3, page  # who is asking, the next trial, when it was first shown
    assert len(answer) <= 3, answer  # who is asking, the trials to score and next, the answer
    for sql in page + answer:
        if sql.startswith('SELECT "surveys_trial"'):
            assert '"surveys_study"' not in sql, sql


@pytest.mark.parametrize("design, answer", [("single", ANSWER), ("pair", PAIR_ANSWER)])
def test_every_answer_is_scored_from_the_rows_its_query_brought(design, answer):
    """The answer's query loads only the fields scoring reads; reading any other would cost a
    query of its own, on practice, excerpt and attention trials alike."""
    study = open_study(design=design, trials=4, n_human=6, attention=1, practice_trial=True)
    client = Client()
    _to_instructions(client, study.slug)
    url = client.post(f"/s/{study.slug}/instructions/", {})["Location"]
    counts = []
    while "/t/" in url:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            url = client.post(url, answer)["Location"]
        counts.append(len(_statements(queries)))
    assert counts[:-1] == [3] * (len(counts) - 1), counts
    assert counts[-1] <= 4, counts  # the last asks where the participant goes next
    scored = Answer.objects.filter(trial__participant__study=study).exclude(trial__kind="practice")
    assert scored.filter(correct__isnull=True).count() == 0


def test_a_sound_check_answer_reads_its_outcome_under_the_lock_not_again_afterwards():
    study = open_study(headphone_trials=3)
    client = Client()
    page = follow(client, f"/s/{study.slug}/")
    follow(client, page.request["PATH_INFO"], {"agree": "on"})
    answer_sound_check(client, study.slug, "1")
    follow(client, f"/s/{study.slug}/headphones/")
    HeadphoneTrial.objects.filter(response__isnull=True).update(
        first_shown_at=timezone.now() - timedelta(seconds=headphone.TRIPLET_SECONDS)
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/s/{study.slug}/headphones/", {"response": "1"})
    assert response["Location"] == f"/s/{study.slug}/headphones/"
    # who is asking and when they were last seen, the check to answer, the answer, the
    # participant locked, the answers so far
    assert len(_statements(queries)) <= 6, _statements(queries)
