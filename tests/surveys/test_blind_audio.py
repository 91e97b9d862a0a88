"""Blindness of what a participant receives, and the audio endpoint's byte ranges and headers."""

import pytest
from django.test import Client

from surveys.models import Stimulus, Trial
from tests.surveys.factories import FORBIDDEN_WORDS, open_study
from tests.surveys.helpers import follow, participant_of, take_study

pytestmark = pytest.mark.django_db


def _secrets_of(study) -> list[str]:
    """Every name or id that could tell a source: stimulus tokens, piece names, file names."""
    words = list(FORBIDDEN_WORDS)
    for stimulus in Stimulus.objects.filter(study_items__study=study).select_related("piece"):
        words += [stimulus.token, stimulus.piece.name, stimulus.piece.corpus.slug]
        words += [stimulus.audio_mp3.name, stimulus.audio_mp3.name.rsplit("/", 1)[-1]]
    return words


def test_nothing_a_participant_receives_names_a_source():
    study = open_study()
    client = Client()
    seen: list = []
    take_study(client, study.slug, seen=seen)
    secrets = [w.lower() for w in _secrets_of(study)]
    for response in seen:
        for hop in [*getattr(response, "redirect_chain", []), None]:
            assert hop is None or not any(s in hop[0].lower() for s in secrets)
        text = response.content.decode("latin-1").lower()
        headers = " ".join(f"{k}: {v}" for k, v in response.headers.items()).lower()
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {response.request['PATH_INFO']}"
            assert secret not in headers


def test_every_sound_is_served_alike_with_random_per_trial_tokens():
    study = open_study(slug="a")
    clients = [Client(), Client()]
    for client in clients:
        take_study(client, study.slug)
    trials = Trial.objects.filter(participant__study=study).select_related("item")
    tokens = [t.audio_token for t in trials]
    assert len(set(tokens)) == len(tokens)
    header_sets = set()
    for trial in trials:
        response = clients[0].get(f"/a/{trial.audio_token}")
        assert response.status_code == 200
        assert response["Content-Type"] == "audio/mpeg"
        assert response["Cache-Control"] == "private, max-age=3600"
        for hidden in ("Content-Disposition", "Last-Modified", "ETag"):
            assert not response.has_header(hidden)
        header_sets.add(tuple(sorted(k for k in response.headers if k != "Content-Length")))
    assert len(header_sets) == 1
    assert all(t.item_id is None or t.item.stimulus.token not in t.audio_token for t in trials)


def test_byte_ranges_for_safari():
    study = open_study(slug="r")
    client = Client()
    take_study(client, study.slug)
    trial = participant_of(client, study.slug).trials.filter(kind="experimental").first()
    url = f"/a/{trial.audio_token}"
    whole = client.get(url).content
    part = client.get(url, HTTP_RANGE="bytes=0-1")
    assert part.status_code == 206 and part.content == whole[:2]
    assert part["Content-Range"] == f"bytes 0-1/{len(whole)}"
    tail = client.get(url, HTTP_RANGE="bytes=-100")
    assert tail.content == whole[-100:]
    open_ended = client.get(url, HTTP_RANGE="bytes=10-")
    assert open_ended.content == whole[10:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(whole) + 5}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(whole)}"
    assert client.get("/a/not-a-token").status_code == 404
    assert client.post(url).status_code == 405


def test_headphone_sounds_come_from_the_same_pattern():
    study = open_study(slug="h")
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    page = follow(client, f"/s/{study.slug}/headphones/")
    body = page.content.decode()
    trial = participant_of(client, study.slug).headphone_trials.get(position=1)
    assert f"/a/{trial.audio_token}" in body
    assert f'value="{trial.quiet_position}" checked' not in body
    sound = client.get(f"/a/{trial.audio_token}")
    assert sound["Content-Type"] == "audio/mpeg" and len(sound.content) > 10000
