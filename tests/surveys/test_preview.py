"""A researcher tries a study as a participant: the same pages with a banner, stored but never
counted, for a draft as well as an open study, and only from the dashboard."""

import re

import pytest
from django.test import Client

from surveys import flow
from surveys.models import Answer, Participant, Study, Trial
from tests.conftest import make_researcher
from tests.surveys.factories import draft_study, open_study
from tests.surveys.helpers import agree, follow, participant_of, take_study
from tests.surveys.test_blind_audio import _secrets_of
from tests.surveys.test_participant_pages import _problems

pytestmark = pytest.mark.django_db

BANNER = b"data-preview-banner"
PROLIFIC = "https://app.prolific.com/submissions/complete?cc={code}"


@pytest.fixture
def researcher() -> Client:
    client = Client()
    client.force_login(make_researcher("ada", password="pw-long-enough-1"))
    return client


def _preview(client: Client, slug: str) -> Participant:
    response = client.post(f"/dashboard/studies/{slug}/preview/")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{slug}/consent/"
    return participant_of(client, slug)


def _html(responses) -> list:
    return [r for r in responses if r["Content-Type"].startswith("text/html")]


def test_the_button_needs_a_login_and_a_post():
    study = open_study()
    anonymous = Client().post(f"/dashboard/studies/{study.slug}/preview/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    researcher = Client()
    researcher.force_login(make_researcher("ada", password="pw-long-enough-1"))
    assert researcher.get(f"/dashboard/studies/{study.slug}/preview/").status_code == 405
    assert not Participant.objects.exists()


def test_the_button_needs_the_csrf_token():
    study = open_study()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_researcher("ada", password="pw-long-enough-1"))
    url = f"/dashboard/studies/{study.slug}/preview/"
    assert client.post(url).status_code == 403
    assert not Participant.objects.exists()
    page = client.get(f"/dashboard/studies/{study.slug}/").content.decode()
    assert "Try it as a participant" in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Participant.objects.get().preview


def test_a_query_parameter_on_the_public_link_starts_no_preview():
    study = open_study()
    client = Client()
    agree(client, follow(client, f"/s/{study.slug}/?preview=1"))
    assert not participant_of(client, study.slug).preview
    researcher = Client()
    researcher.force_login(make_researcher("ada", password="pw-long-enough-1"))
    agree(researcher, follow(researcher, f"/s/{study.slug}/"))
    assert not participant_of(researcher, study.slug).preview


def test_a_draft_is_previewed_without_opening_or_freezing_it(researcher):
    study = draft_study(slug="pilot")
    rules = dict(study.exclusion_rules)
    assert Client().get("/s/pilot/").status_code == 404
    participant = _preview(researcher, "pilot")
    assert participant.preview
    response = take_study(researcher, "pilot")
    assert response.request["PATH_INFO"] == "/s/pilot/done/" and BANNER in response.content
    participant.refresh_from_db()
    assert participant.completed
    assert Answer.objects.filter(participant=participant).count() == participant.trials.count()
    study.refresh_from_db()
    assert study.state == Study.State.DRAFT
    assert study.frozen_rules is None and study.opened_at is None
    assert study.exclusion_rules == rules
    # The draft is still hidden from everyone else, and still opens normally afterwards.
    assert Client().get("/s/pilot/").status_code == 404
    assert Client().get("/s/pilot/consent/").status_code == 404
    study.open()
    assert Study.objects.get(pk=study.pk).state == Study.State.OPEN


def test_a_draft_that_could_not_open_cannot_be_previewed(researcher):
    study = draft_study(slug="thin", n_human=1)
    response = researcher.post("/dashboard/studies/thin/preview/", follow=True)
    assert response.request["PATH_INFO"] == "/dashboard/studies/thin/"
    assert b"cannot be previewed yet" in response.content
    assert b"human excerpts" in response.content
    assert not Participant.objects.exists()
    assert Study.objects.get(pk=study.pk).state == Study.State.DRAFT


def test_each_preview_is_a_new_session(researcher):
    study = open_study()
    first = _preview(researcher, study.slug)
    follow(researcher, f"/s/{study.slug}/consent/", {"agree": "on"})
    second = _preview(researcher, study.slug)
    assert first.pk != second.pk and second.preview and not second.consented
    assert Participant.objects.filter(preview=True).count() == 2
    # The public link from the same browser resumes the preview rather than counting them.
    response = follow(researcher, f"/s/{study.slug}/")
    assert response.request["PATH_INFO"] == f"/s/{study.slug}/consent/"
    assert Participant.objects.count() == 2


def test_the_banner_is_on_every_preview_page_and_on_no_participants_page(researcher):
    study = open_study(slug="bnr", practice_trial=True)
    _preview(researcher, study.slug)
    previewed: list = []
    take_study(researcher, study.slug, seen=previewed)
    pages = _html(previewed)
    paths = {r.request["PATH_INFO"].split("/")[3] for r in pages}
    assert paths >= {"consent", "headphones", "instructions", "t", "done"}
    secrets = [w.lower() for w in _secrets_of(study)]
    for response in pages:
        assert response.content.count(BANNER) == 1, response.request["PATH_INFO"]
        assert _problems(response) == [], response.request["PATH_INFO"]
        text = response.content.decode().lower()
        assert not [s for s in secrets if s in text], response.request["PATH_INFO"]
    counted: list = []
    take_study(Client(), study.slug, seen=counted)
    for response in _html(counted):
        assert BANNER not in response.content, response.request["PATH_INFO"]
        assert b"not counted" not in response.content


def test_a_preview_ends_on_the_code_page_not_at_prolific(researcher):
    study = open_study(completion_url=PROLIFIC)
    _preview(researcher, study.slug)
    done = take_study(researcher, study.slug)
    target = PROLIFIC.replace("{code}", study.completion_code)
    assert study.completion_code.encode() in done.content
    assert f'href="{target}"'.encode() not in done.content
    assert b"a preview does not go there" in done.content
    real = take_study(Client(), study.slug, query="?PROLIFIC_PID=abc&STUDY_ID=s&SESSION_ID=x")
    assert f'href="{target}"'.encode() in real.content


def test_previews_leave_exposures_completion_count_and_quota_alone(researcher, monkeypatch):
    study = open_study(slug="full", target_participants=1)
    _preview(researcher, study.slug)
    take_study(researcher, study.slug)
    preview_trials = Trial.objects.filter(participant__preview=True, item__isnull=False)
    assert preview_trials.exists()
    assert study.completed_count() == 0 and study.accepting()

    seen_exposures = []
    draw = flow.draw_trials

    def spy(pool, exposures, *args):
        seen_exposures.append(dict(exposures))
        return draw(pool, exposures, *args)

    monkeypatch.setattr(flow, "draw_trials", spy)
    take_study(Client(), study.slug)
    assert seen_exposures == [{}]
    assert Participant.objects.filter(preview=False).get().completed
    assert study.completed_count() == 1 and not study.accepting()


def test_the_dashboard_counts_previews_apart(researcher):
    study = open_study(slug="dash", target_participants=5)
    for _ in range(2):
        _preview(researcher, study.slug)
        take_study(researcher, study.slug)
    take_study(Client(), study.slug)
    page = researcher.get(f"/dashboard/studies/{study.slug}/").content.decode()
    assert "1 link opening ·" in page and "1 consented" in page
    assert "1 of 5 completed" in page
    assert "2 preview sessions" in page
    listing = researcher.get("/dashboard/studies/").content.decode()
    assert "<td>1</td><td>1</td>" in listing.replace("\n", "")


def test_preview_posts_do_not_use_up_the_rate_limits(researcher, settings):
    settings.SURVEY_RATE_PER_IP = 3
    settings.SURVEY_RATE_PER_PARTICIPANT = 3
    study = open_study()
    _preview(researcher, study.slug)
    take_study(researcher, study.slug)  # many more than 3 posts, none refused
    client = Client()
    follow(client, f"/s/{study.slug}/")
    codes = [client.post(f"/s/{study.slug}/consent/", {}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
