"""Fifty simultaneous identical answer posts store exactly one answer (PostgreSQL and SQLite).

Run against PostgreSQL with DATABASE_URL=postgres://postgres@127.0.0.1:5432/turing_music.
"""

import threading

import pytest
from django.db import connection
from django.test import Client

from surveys.models import Answer
from tests.surveys.factories import open_study
from tests.surveys.helpers import ANSWER, follow, participant_of

N_POSTS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_identical_posts_store_one_answer():
    study = open_study(attention=0, headphone_trials=0)
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    url = follow(client, f"/s/{study.slug}/instructions/", {}).request["PATH_INFO"]
    cookie = client.cookies[f"p_{study.slug}"].value
    start = threading.Barrier(N_POSTS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            worker = Client()
            worker.cookies[f"p_{study.slug}"] = cookie
            start.wait()
            statuses.append(worker.post(url, {**ANSWER, "request_id": "same-click"}).status_code)
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(N_POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors[0]
    assert statuses == [302] * N_POSTS
    participant = participant_of(client, study.slug)
    assert Answer.objects.filter(participant=participant).count() == 1
    assert Answer.objects.get(participant=participant).request_id == "same-click"
