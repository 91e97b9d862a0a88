"""Following the study link stores nothing; the consent POST creates the participant, carrying
the link's Prolific parameters through a signed field of the consent form."""

import pytest
from django.apps import apps
from django.test import Client

from surveys.link_opens import openings
from surveys.models import Participant
from tests.surveys.factories import draft_study, open_study
from tests.surveys.helpers import agree, follow, participant_of

pytestmark = pytest.mark.django_db

N_GETS = 1000


def _rows() -> dict[str, int]:
    """Rows in every table of the project, so a GET storing anything anywhere shows up."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_a_thousand_cookie_less_gets_store_nothing():
    study = open_study()
    before = _rows()
    urls = [
        f"/s/{study.slug}/",
        f"/s/{study.slug}/?PROLIFIC_PID=p1&STUDY_ID=s&SESSION_ID=x",
        f"/s/{study.slug}/consent/",
        f"/s/{study.slug}/consent/?PROLIFIC_PID=scanner&STUDY_ID=s&SESSION_ID=x",
    ]
    statuses = set()
    for i in range(N_GETS):
        statuses.add(Client().get(urls[i % len(urls)]).status_code)  # a new client: no cookie
    assert statuses == {200, 302}
    assert _rows() == before
    assert not Participant.objects.exists()
    # The link's openings are counted without rows: once per GET of the study link itself.
    assert openings(study) == N_GETS // 2


def test_consent_creates_the_participant_with_the_links_prolific_ids():
    study = open_study()
    client = Client()
    consent_page = follow(client, f"/s/{study.slug}/?PROLIFIC_PID=pid1&STUDY_ID=st1&SESSION_ID=se1")
    assert consent_page.request["PATH_INFO"] == f"/s/{study.slug}/consent/"
    assert not Participant.objects.exists()
    response = agree(client, consent_page)
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/headphones/"
    participant = participant_of(client, study.slug)
    assert participant.consented and participant.reserved_until is not None
    fields = ("prolific_pid", "prolific_study_id", "prolific_session_id")
    assert [getattr(participant, f) for f in fields] == ["pid1", "st1", "se1"]


def test_ids_a_spreadsheet_would_run_are_dropped_and_the_rest_kept():
    # Anyone can open a study link; its ids go into the export researchers open in Excel.
    study = open_study()
    client = Client()
    query = "PROLIFIC_PID=%3DHYPERLINK(%22https://x%22)&STUDY_ID=@SUM(1)&SESSION_ID=5f1a.b_c-9"
    agree(client, follow(client, f"/s/{study.slug}/?{query}"))
    participant = participant_of(client, study.slug)
    fields = ("prolific_pid", "prolific_study_id", "prolific_session_id")
    assert [getattr(participant, f) for f in fields] == ["", "", "5f1a.b_c-9"]


def test_a_forged_start_field_is_refused_and_stores_nothing():
    study = open_study()
    client = Client()
    follow(client, f"/s/{study.slug}/consent/?PROLIFIC_PID=mine")
    forged = client.post(
        f"/s/{study.slug}/consent/", {"agree": "on", "start": '{"prolific_pid":"someone-else"}'}
    )
    assert forged.status_code == 200
    assert b"changed on its way" in forged.content
    assert not Participant.objects.exists()


def test_consent_without_the_box_ticked_stores_nothing():
    study = open_study()
    response = Client().post(f"/s/{study.slug}/consent/", {})
    assert response.status_code == 200 and b"tick the box" in response.content
    assert not Participant.objects.exists()


def test_a_draft_or_missing_study_stores_nothing_either():
    draft_study(slug="draft-one")
    for url in ("/s/draft-one/", "/s/draft-one/consent/", "/s/nothing/", "/s/nothing/consent/"):
        assert Client().get(url).status_code == 404
    assert Client().post("/s/draft-one/consent/", {"agree": "on"}).status_code == 404
    assert not Participant.objects.exists()
