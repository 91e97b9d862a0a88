"""Blindness of what a participant receives, and the audio endpoint's byte ranges and headers."""

import pytest
from django.test import Client

from surveys.models import Stimulus, Trial
from tests.surveys.factories import FORBIDDEN_WORDS, open_study
from tests.surveys.helpers import assert_names_none, body, follow, participant_of, take_study

FORMATS = {"": "audio/mpeg", "?f=ogg": "audio/ogg"}

pytestmark = pytest.mark.django_db


def _secrets_of(study) -> list[str]:
    """Every name or id that could tell a source: stimulus tokens, piece names, file names."""
    words = list(FORBIDDEN_WORDS)
    for stimulus in Stimulus.objects.filter(study_items__study=study).select_related("piece"):
        words += [stimulus.token, stimulus.piece.name, stimulus.piece.corpus.slug]
        for field in (stimulus.audio_mp3, stimulus.audio_ogg):
            words += [field.name, field.name.rsplit("/", 1)[-1]]
    return words


DESIGNS = pytest.mark.parametrize("design", ["single", "pair"])


@pytest.fixture(autouse=True)
def _walks_answer_without_playing(settings):
    """The walks answer at once: a pair's two 0.6 s sounds must not hold them back."""
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 2000


@DESIGNS
def test_nothing_a_participant_receives_names_a_source(design):
    study = open_study(design=design)
    client = Client()
    seen: list = []
    take_study(client, study.slug, seen=seen)
    secrets = [w.lower() for w in _secrets_of(study)]
    assert_names_none(seen, secrets)


def _sounds(trial: Trial) -> list[tuple[str, str]]:
    """(address token, source) of each sound of a trial: one, or a pair's A and B."""
    if trial.attention_clip_id:
        return [(t, "attention") for t in (trial.audio_token, trial.audio_token_b) if t]
    sounds = [(trial.audio_token, trial.item.stimulus.source_kind)]
    if trial.is_pair:
        sounds.append((trial.audio_token_b, trial.item_b.stimulus.source_kind))
    return sounds


@DESIGNS
def test_every_sound_is_served_alike_in_both_formats_with_random_per_trial_tokens(design):
    study = open_study(slug="a", design=design)
    clients = [Client(), Client()]
    for client in clients:
        take_study(client, study.slug)
    trials = Trial.objects.filter(participant__study=study).select_related(
        "item__stimulus", "item_b__stimulus", "attention_clip"
    )
    sounds = [sound for trial in trials for sound in _sounds(trial)]
    tokens = [token for token, _ in sounds]
    assert len(set(tokens)) == len(tokens)
    assert {source for _, source in sounds} == {"human", "machine", "attention"}
    for query, content_type in FORMATS.items():
        header_sets = {}
        for token, source in sounds:
            response = clients[0].get(f"/a/{token}{query}")
            assert response.status_code == 200
            assert response["Content-Type"] == content_type
            assert response["Cache-Control"] == "private, max-age=3600"
            for hidden in ("Content-Disposition", "Last-Modified", "ETag"):
                assert not response.has_header(hidden)
            headers = tuple(
                sorted((k, v) for k, v in response.headers.items() if k != "Content-Length")
            )
            header_sets.setdefault(headers, set()).add(source)
        assert list(header_sets.values()) == [{"human", "machine", "attention"}]
    stimulus_tokens = {t.item.stimulus.token for t in trials if t.item_id}
    assert not any(s in token for s in stimulus_tokens for token in tokens)


def test_every_trial_page_offers_both_formats_ogg_first():
    study = open_study(slug="p")
    client = Client()
    pages = []
    take_study(client, study.slug, seen=pages)
    trial_pages = [p for p in pages if "/t/" in p.request["PATH_INFO"] and p.context]
    kinds = set()
    for page in trial_pages:
        text = page.content.decode()
        url = page.context["audio_url"]
        ogg = f'<source src="{url}?f=ogg" type="audio/ogg; codecs=opus">'
        mp3 = f'<source src="{url}" type="audio/mpeg">'
        assert ogg in text and mp3 in text and text.index(ogg) < text.index(mp3)
        kinds.add(Trial.objects.get(audio_token=url.rsplit("/", 1)[-1]).kind)
    assert {"experimental", "attention"} <= kinds


def test_a_study_with_a_sound_lacking_ogg_offers_it_on_no_page():
    study = open_study(slug="m")
    study.attention_clips.update(audio_ogg="")
    client = Client()
    pages = []
    take_study(client, study.slug, seen=pages)
    trial_pages = [p for p in pages if "/t/" in p.request["PATH_INFO"] and p.context]
    assert trial_pages
    assert not any("?f=ogg" in p.content.decode() for p in trial_pages)


def test_unknown_formats_are_missing_for_every_token_alike():
    study = open_study(slug="u")
    client = Client()
    take_study(client, study.slug)
    participant = participant_of(client, study.slug)
    tokens = [t.audio_token for t in participant.trials.all()]
    tokens += [t.audio_token for t in participant.headphone_trials.all()]
    for token in tokens:
        for query in ("?f=mp3", "?f=", "?f=OGG", "?f=wav"):
            assert client.get(f"/a/{token}{query}").status_code == 404


def test_byte_ranges_for_safari(storage_kind):
    study = open_study(slug="r")
    client = Client()
    take_study(client, study.slug)
    trial = participant_of(client, study.slug).trials.filter(kind="experimental").first()
    url = f"/a/{trial.audio_token}"
    whole = body(client.get(url))
    part = client.get(url, HTTP_RANGE="bytes=0-1")
    assert part.status_code == 206 and body(part) == whole[:2]
    assert part["Content-Range"] == f"bytes 0-1/{len(whole)}"
    tail = client.get(url, HTTP_RANGE="bytes=-100")
    assert body(tail) == whole[-100:]
    open_ended = client.get(url, HTTP_RANGE="bytes=10-")
    assert body(open_ended) == whole[10:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(whole) + 5}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(whole)}"
    assert client.get("/a/not-a-token").status_code == 404
    assert client.post(url).status_code == 405


def test_byte_ranges_on_the_ogg():
    study = open_study(slug="o")
    client = Client()
    take_study(client, study.slug)
    for trial in participant_of(client, study.slug).trials.all():
        url = f"/a/{trial.audio_token}?f=ogg"
        whole = body(client.get(url))
        assert whole.startswith(b"OggS")
        part = client.get(url, HTTP_RANGE="bytes=0-3")
        assert part.status_code == 206 and body(part) == b"OggS"
        assert part["Content-Type"] == "audio/ogg"
        assert part["Content-Range"] == f"bytes 0-3/{len(whole)}"
        assert body(client.get(url, HTTP_RANGE="bytes=-100")) == whole[-100:]
        beyond = client.get(url, HTTP_RANGE=f"bytes={len(whole)}-")
        assert beyond.status_code == 416 and beyond["Content-Type"] == "audio/ogg"
    assert client.get("/a/not-a-token?f=ogg").status_code == 404


def test_headphone_sounds_come_from_the_same_pattern():
    study = open_study(slug="h")
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    page = follow(client, f"/s/{study.slug}/headphones/")
    text = page.content.decode()
    trial = participant_of(client, study.slug).headphone_trials.get(position=1)
    assert f"/a/{trial.audio_token}" in text
    assert f'value="{trial.quiet_position}" checked' not in text
    sound = client.get(f"/a/{trial.audio_token}")
    assert sound["Content-Type"] == "audio/mpeg" and len(body(sound)) > 10000
    assert "?f=ogg" not in text
    assert client.get(f"/a/{trial.audio_token}?f=ogg").status_code == 404
