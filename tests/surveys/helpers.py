"""Walk a participant through a study with Django's test client, the way the browser would."""

import re
from collections import Counter
from datetime import timedelta

from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from surveys import headphone
from surveys.models import HeadphoneTrial, Participant, Study, Trial
from surveys.questionnaire import ITEMS

ANSWER = {
    "judgment": "person",
    "confidence": "4",
    "musicality": "3",
    "response_ms": "900",
    "listening_ms": "600",
    "plays": "1",
}
PAIR_ANSWER = {
    "choice": "a",
    "confidence": "4",
    "response_ms": "900",
    "listening_ms": "1200",
    "plays": "2",
}
QUESTIONNAIRE = {"age_band": "25-34", "musical_training_years": "1", **{i.key: "0" for i in ITEMS}}


def body(response) -> bytes:
    """A response's body, whether sent whole or streamed (sounds are streamed from storage)."""
    if not response.streaming:
        return response.content
    if not hasattr(response, "joined_body"):
        response.joined_body = b"".join(response.streaming_content)
    return response.joined_body


RANDOM_VALUES = re.compile(r'(csrfmiddlewaretoken" value="|csrftoken=|sessionid=)[A-Za-z0-9]+')


def without_random_values(text: str) -> str:
    """Text with Django's CSRF and session values blanked before a scan for secret words.

    A 64-character random token can spell a short word by chance (one spelled "v9x" in CI),
    and those values are the framework's, not a place our code could leak a name into.
    """
    return RANDOM_VALUES.sub(r"\1", text)


def assert_names_none(responses: list, secrets: list[str]) -> None:
    """No response a participant received, nor a redirect on its way, holds a secret word
    (lower case) in its body or headers."""
    for response in responses:
        for hop in getattr(response, "redirect_chain", []):
            assert not any(s in hop[0].lower() for s in secrets)
        text = without_random_values(body(response).decode("latin-1")).lower()
        headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
        headers = without_random_values(headers).lower()
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {response.request['PATH_INFO']}"
            assert secret not in headers


def follow(client: Client, url: str, data: dict | None = None):
    response = (
        client.post(url, data, follow=True) if data is not None else client.get(url, follow=True)
    )
    assert response.status_code == 200, response.content[:500]
    return response


def agree(client: Client, consent_page):
    """Tick the consent box and send the form the page shows, its hidden fields included."""
    hidden = re.search(r'name="start" value="([^"]*)"', consent_page.content.decode())
    data = {"agree": "on", "start": hidden[1] if hidden else ""}
    return follow(client, consent_page.request["PATH_INFO"], data)


def answer_sound_check(client: Client, slug: str, response) -> HttpResponse:
    """Answer the next sound check as someone who heard its tones: the server refuses an answer
    sooner after the page was first shown than the tones last, so the page is shown and its
    stamp set back by that long first."""
    follow(client, f"/s/{slug}/headphones/")
    shown = timezone.now() - timedelta(seconds=headphone.TRIPLET_SECONDS)
    HeadphoneTrial.objects.filter(
        participant=participant_of(client, slug), response__isnull=True
    ).update(first_shown_at=shown)
    return follow(client, f"/s/{slug}/headphones/", {"response": response})


def participant_of(client: Client, slug: str) -> Participant:
    return Participant.objects.get(token=client.cookies[f"p_{slug}"].value)


def take_study(
    client: Client,
    slug: str,
    query: str = "",
    seen: list | None = None,
    questionnaire: dict | None = None,
):
    """Consent, headphones, instructions, every trial, questionnaire; returns the last response."""
    seen = seen if seen is not None else []
    response = follow(client, f"/s/{slug}/{query}")
    seen.append(response)
    seen.append(agree(client, response))
    return finish_study(client, slug, seen, questionnaire)


def finish_study(
    client: Client, slug: str, seen: list | None = None, questionnaire: dict | None = None
):
    """From consent on: headphones (answered right), instructions, every trial, questionnaire."""
    seen = seen if seen is not None else []
    participant = participant_of(client, slug)
    for trial in HeadphoneTrial.objects.filter(participant=participant):
        seen.append(client.get(f"/a/{trial.audio_token}"))
        response = answer_sound_check(client, slug, trial.quiet_position)
        seen.append(response)
    response = follow(client, f"/s/{slug}/instructions/", {})
    seen.append(response)
    while "/t/" in response.request["PATH_INFO"]:
        pair = "audio_url_b" in response.context
        urls = [response.context["audio_url"]]
        urls += [response.context["audio_url_b"]] if pair else []
        for url in urls:
            seen.append(client.get(url))
            if response.context["offer_ogg"]:
                seen.append(client.get(f"{url}?f=ogg"))
        response = follow(client, response.request["PATH_INFO"], PAIR_ANSWER if pair else ANSWER)
        seen.append(response)
    response = follow(client, f"/s/{slug}/questions/", questionnaire or QUESTIONNAIRE)
    seen.append(response)
    return response


def hearings_by_source(study: Study) -> dict[str, list[int]]:
    """How many times each of the study's excerpts was assigned, grouped by the source that
    balancing spreads evenly (StudyStimulus.source_key)."""
    heard = Counter(Trial.objects.filter(participant__study=study).values_list("item", flat=True))
    by_source: dict[str, list[int]] = {}
    for item in study.items.all():
        by_source.setdefault(item.source_key, []).append(heard[item.pk])
    return by_source
