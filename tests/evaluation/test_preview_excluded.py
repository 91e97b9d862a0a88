"""A researcher's preview sessions are stored like any participant's but are absent from the tidy
table, the funnel, the report, every download and the report command."""

import io
import json
import secrets

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client

from evaluation import tidy
from evaluation.dataset import answer_tables
from surveys.models import Answer, Participant
from tests.conftest import make_researcher
from tests.surveys.factories import open_study
from tests.surveys.helpers import follow, take_study

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{secrets.token_hex(6)}"}
    }


@pytest.fixture
def researcher() -> Client:
    client = Client()
    client.force_login(make_researcher("ada", password="a-long-pass-1"))
    return client


@pytest.fixture
def previewed_study(researcher):
    """Two participants who completed, one completed preview and one preview left at consent."""
    study = open_study(slug="piloted", trials=4, attention=0)
    for _ in range(2):
        take_study(Client(), study.slug)
    researcher.post(f"/dashboard/studies/{study.slug}/preview/")
    take_study(researcher, study.slug)
    researcher.post(f"/dashboard/studies/{study.slug}/preview/")
    follow(researcher, f"/s/{study.slug}/consent/", {"agree": "on"})
    return study


def _counted() -> set[str]:
    counted = Participant.objects.filter(preview=False).values_list("pk", flat=True)
    return {str(pk) for pk in counted}


def test_preview_answers_are_stored_but_not_in_the_tables(previewed_study):
    previews = Participant.objects.filter(preview=True)
    assert previews.count() == 2
    assert Answer.objects.filter(participant__in=previews, trial__kind="experimental").count() == 4
    frame, funnel = answer_tables(previewed_study)
    assert set(frame[tidy.PARTICIPANT]) == _counted() and len(frame) == 2 * 4
    assert set(funnel[tidy.PARTICIPANT]) == _counted()
    assert funnel[tidy.STARTED].sum() == 2 and funnel[tidy.COMPLETED].sum() == 2


def test_report_and_every_download_leave_previews_out(previewed_study, researcher):
    base = f"/reports/{previewed_study.slug}"
    report = json.loads(researcher.get(f"{base}/report.json").content)
    assert report["totals"]["judgments"] == 2 * 4
    funnel = {row["step"]: row["participants"] for row in report["funnel"]}
    assert set(funnel.values()) == {2}
    answers = pd.read_csv(io.StringIO(researcher.get(f"{base}/answers.csv").content.decode()))
    assert set(answers[tidy.PARTICIPANT].astype(str)) == _counted()
    table = pd.read_csv(io.StringIO(researcher.get(f"{base}/tables/funnel.csv").content.decode()))
    assert set(table["participants"]) == {2}
    items = pd.read_csv(io.StringIO(researcher.get(f"{base}/tables/items.csv").content.decode()))
    assert items["judgments"].sum() == 2 * 4
    out = io.StringIO()
    call_command("report", previewed_study.slug, "--json", stdout=out)
    assert json.loads(out.getvalue())["totals"] == report["totals"]
