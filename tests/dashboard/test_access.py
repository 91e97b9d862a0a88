"""A reader's account reads every researcher page and changes nothing; a researcher's acts."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from dashboard.access import READ_ONLY, RESEARCHERS
from generation.models import GenerationBatch, TrainingRun
from surveys.models import Participant, Study
from tests.conftest import make_researcher
from tests.surveys.factories import draft_study, machine_batch, open_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader() -> Client:
    client = Client()
    client.force_login(User.objects.create_user("bea", password="a-long-password-2"))
    return client


@pytest.fixture
def rows() -> dict:
    """A draft, an open study, a training run and its generation batch."""
    batch = machine_batch()
    return {
        "draft": draft_study("draft"),
        "open": open_study("live"),
        "run": batch.run,
        "batch": batch,
    }


def reading_urls(rows: dict) -> list[str]:
    return [
        reverse("dashboard:home"),
        reverse("dashboard:corpora"),
        reverse("dashboard:runs"),
        reverse("dashboard:run", args=[rows["run"].pk]),
        reverse("dashboard:batches"),
        reverse("dashboard:batch", args=[rows["batch"].pk]),
        reverse("dashboard:stimuli"),
        reverse("surveys_dashboard:list"),
        reverse("surveys_dashboard:detail", args=["draft"]),
        reverse("surveys_dashboard:detail", args=["live"]),
        reverse("evaluation:report", args=["live"]),
        reverse("evaluation:report_json", args=["live"]),
        reverse("evaluation:answers_csv", args=["live"]),
    ]


def acting_requests(rows: dict) -> list[tuple[str, str]]:
    """Every way to change something, as (method, url): forms that start jobs or change studies
    are refused on GET too."""
    run, batch = rows["run"].pk, rows["batch"].pk
    return [
        ("get", reverse("dashboard:run-new")),
        ("post", reverse("dashboard:run-new")),
        ("post", reverse("dashboard:run-stop", args=[run])),
        ("post", reverse("dashboard:run-resume", args=[run])),
        ("get", reverse("dashboard:batch-new")),
        ("post", reverse("dashboard:batch-new")),
        ("post", reverse("dashboard:batch", args=[batch])),
        ("get", reverse("dashboard:generator-import")),
        ("post", reverse("dashboard:generator-import")),
        ("post", reverse("dashboard:corpus-import")),
        ("post", reverse("dashboard:corpus-upload")),
        ("post", reverse("dashboard:stimuli")),
        ("get", reverse("surveys_dashboard:create")),
        ("post", reverse("surveys_dashboard:create")),
        ("get", reverse("surveys_dashboard:edit", args=["draft"])),
        ("post", reverse("surveys_dashboard:edit", args=["draft"])),
        ("post", reverse("surveys_dashboard:open", args=["draft"])),
        ("post", reverse("surveys_dashboard:close", args=["live"])),
        ("post", reverse("surveys_dashboard:preview", args=["draft"])),
        ("post", reverse("surveys_dashboard:preview", args=["live"])),
        ("get", reverse("evaluation:participants_csv", args=["live"])),
    ]


ACTION_WORDS = (
    "Open the study",
    "Close the study",
    "Edit the draft",
    "Train a model",
    "Train a network",
    "Generate pieces",
    "New study",
    "Render excerpts",
    "Import a bundled corpus",
    "Participants (CSV)",
    ">Stop<",
    "Try it as a participant",
)


def test_the_researchers_group_holds_both_permissions():
    codenames = set(
        Group.objects.get(name=RESEARCHERS).permissions.values_list("codename", flat=True)
    )
    assert codenames == {"run_experiments", "view_participants"}


def test_a_reader_reads_every_page_without_an_action_on_it(reader, rows):
    TrainingRun.objects.filter(pk=rows["run"].pk).update(status="running")  # it has a Stop
    for url in reading_urls(rows):
        response = reader.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert not [word for word in ACTION_WORDS if word in page], url
    # The code that claims a participant's payment on Prolific is the researchers' to hand out.
    assert (
        rows["open"].completion_code
        not in reader.get(reverse("surveys_dashboard:detail", args=["live"])).content.decode()
    )


def test_a_reader_is_refused_every_action_and_nothing_changes(reader, rows):
    before = (TrainingRun.objects.count(), GenerationBatch.objects.count(), Study.objects.count())
    for method, url in acting_requests(rows):
        response = getattr(reader, method)(url)
        assert response.status_code == 403, (method, url)
        assert READ_ONLY.split(".")[0] in response.content.decode(), url
    assert Study.objects.get(slug="draft").state == Study.State.DRAFT
    assert Study.objects.get(slug="live").state == Study.State.OPEN
    after = (TrainingRun.objects.count(), GenerationBatch.objects.count(), Study.objects.count())
    assert after == before
    assert TrainingRun.objects.get(pk=rows["run"].pk).status == "pending"


def test_a_reader_can_neither_preview_nor_change_a_drafts_clips(reader, rows):
    # A preview ends on the completion code, and a draft's preview makes its attention clips.
    clips = rows["draft"].attention_clips.count()
    assert reader.post(reverse("surveys_dashboard:preview", args=["draft"])).status_code == 403
    assert not Participant.objects.filter(preview=True).exists()
    assert rows["draft"].attention_clips.count() == clips


def test_a_researcher_sees_the_actions_and_may_take_them(rows):
    client = Client()
    client.force_login(make_researcher())
    page = client.get(reverse("surveys_dashboard:detail", args=["draft"])).content.decode()
    assert "Open the study" in page and "Edit the draft" in page
    assert rows["draft"].completion_code in page
    report = client.get(reverse("evaluation:report", args=["live"])).content.decode()
    assert "Participants (CSV)" in report
    assert client.get(reverse("evaluation:participants_csv", args=["live"])).status_code == 200
    client.post(reverse("surveys_dashboard:close", args=["live"]))
    assert Study.objects.get(slug="live").state == Study.State.CLOSED


def test_accounts_made_later_only_read_until_added_to_the_group():
    user = User.objects.create_user("cy", password="a-long-password-3")
    assert not user.has_perm("surveys.run_experiments")
    user.groups.add(Group.objects.get(name=RESEARCHERS))
    user = User.objects.get(pk=user.pk)  # permissions are cached per instance
    assert user.has_perm("surveys.run_experiments") and user.has_perm("surveys.view_participants")
