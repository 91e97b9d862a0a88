"""Fifty simultaneous identical answer posts store exactly one answer, and participants who
leave the instructions at the same moment still hear every excerpt about equally often
(PostgreSQL and SQLite).

Run against PostgreSQL with DATABASE_URL=postgres://postgres@127.0.0.1:5432/turing_music.
"""

import threading

import pytest
from django.db import connection
from django.test import Client

from surveys.models import Answer
from tests.surveys.factories import open_study
from tests.surveys.helpers import ANSWER, follow, hearings_by_source, participant_of

N_POSTS = 50
N_READERS = 24


def _all_at_once(posts) -> None:
    """Runs each post in a thread of its own, all released together; fails on any error."""
    start = threading.Barrier(len(posts))
    errors: list[BaseException] = []

    def run(post) -> None:
        try:
            start.wait()
            post()
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(post,)) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_identical_posts_store_one_answer():
    study = open_study(attention=0, headphone_trials=0)
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    url = follow(client, f"/s/{study.slug}/instructions/", {}).request["PATH_INFO"]
    cookie = client.cookies[f"p_{study.slug}"].value
    statuses: list[int] = []

    def post() -> None:
        worker = Client()
        worker.cookies[f"p_{study.slug}"] = cookie
        statuses.append(worker.post(url, {**ANSWER, "request_id": "same-click"}).status_code)

    _all_at_once([post] * N_POSTS)

    assert statuses == [302] * N_POSTS
    participant = participant_of(client, study.slug)
    assert Answer.objects.filter(participant=participant).count() == 1
    assert Answer.objects.get(participant=participant).request_id == "same-click"


@pytest.mark.django_db(transaction=True)
def test_participants_leaving_the_instructions_at_once_hear_each_excerpt_about_equally():
    study = open_study(
        attention=0,
        headphone_trials=0,
        n_human=8,
        machine={"seq2seq": 4, "token_lstm": 4},
        practice_trial=False,
    )
    readers = []
    for _ in range(N_READERS):
        client = Client()
        response = follow(client, f"/s/{study.slug}/")
        follow(client, response.request["PATH_INFO"], {"agree": "on"})
        readers.append(client)
    statuses: list[int] = []

    def leave_instructions(client: Client):
        return lambda: statuses.append(client.post(f"/s/{study.slug}/instructions/").status_code)

    _all_at_once([leave_instructions(client) for client in readers])

    assert statuses == [302] * N_READERS
    by_source = hearings_by_source(study)
    assert sum(map(sum, by_source.values())) == N_READERS * study.trials_per_participant
    for counts in by_source.values():
        assert max(counts) - min(counts) <= 1, by_source
