"""A report published for readers without an account: frozen, public by its link alone, without
the researcher's controls, and withdrawn when the researcher says so."""

import json
import re

import pytest
from django.test import Client

from generation.models import GenerationBatch, TrainingRun
from generation.models.runs import Status
from surveys.models import Answer, Participant, PublishedReport
from tests.conftest import make_researcher
from tests.surveys.factories import open_study
from tests.surveys.helpers import take_study

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("survey_walks")]


@pytest.fixture
def study():
    study = open_study(slug="shared", trials=8, attention=0)
    for _ in range(3):
        take_study(Client(), study.slug)
    Participant.objects.update(excluded=False, exclusion_reason="")  # whatever clip was drawn
    judge(lambda i: i % 3 == 0)
    return study


def judge(human) -> None:
    """Set each experimental answer's judgment (``human`` of its position) and its scoring."""
    for i, answer in enumerate(Answer.objects.filter(trial__kind="experimental")):
        answer.judged_human = human(i)
        answer.correct = answer.judged_human == (answer.trial.item.source_kind == "human")
        answer.save()


@pytest.fixture
def researcher():
    client = Client()
    client.force_login(make_researcher("researcher", password="a-long-passphrase-1"))
    return client


def publish(client: Client, slug: str) -> PublishedReport:
    response = client.post(f"/reports/{slug}/publish/?margin=0.3&alpha=0.2")
    assert response.status_code == 302
    return PublishedReport.objects.latest("published_at")


def test_anyone_with_the_link_reads_the_report_without_the_researchers_controls(study, researcher):
    published = publish(researcher, study.slug)
    response = Client().get(f"/results/{published.token}/")
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    html = response.content.decode()
    assert "Does a model pass for human?" in html and "Rate judged human" in html
    assert "3 participants analysed" in html
    assert "Each participant heard 8 excerpts" in html  # how the study ran, for its readers
    assert "Rules fixed when the study opened" in html
    # Nothing that needs an account: no settings form, no downloads, no dashboard links.
    assert "Recompute" not in html and "csrfmiddlewaretoken" not in html
    assert not re.search(r'href="/(dashboard|reports|admin)/', html)
    assert study.completion_code not in html
    for pid in Participant.objects.values_list("prolific_pid", flat=True):
        assert not pid or pid not in html
    # Published at the margin fixed when the study opened, whatever the researcher's page asked.
    assert "±10 percentage points" in html or "±10 points" in html
    data = json.loads(Client().get(f"/results/{published.token}/report.json").content)
    assert data["settings"]["margin"] == 0.1 and data["settings"]["alpha"] == 0.05
    assert data["totals"]["participants_analysed"] == 3


def test_a_report_says_how_each_model_was_trained_and_sampled(study, researcher):
    batch = GenerationBatch.objects.get(run__model_kind="seq2seq")
    TrainingRun.objects.filter(pk=batch.run_id).update(
        config={"num_layers": 2, "hidden_size": 128, "head": "independent"},
        data_summary={"train_pieces": 77},
        history=[{"valid_nll": v, "previous_step_nll": 10.6} for v in (6.1, 5.5)],
        best_epoch=2,
        baseline_nll=13.8,
        test_metrics={"nll": 5.7},
        status=Status.SUCCEEDED,
    )
    html = " ".join(
        Client().get(f"/results/{publish(researcher, study.slug).token}/").content.decode().split()
    )
    assert (
        f"seq2seq, batch {batch.pk}: an LSTM of 2 x 128 units, trained on jsb-train (77 "
        "pieces) for 2 epochs, sampled from epoch 2; validation NLL 5.500 per step, against "
        "13.800 for a model that ignores its input and 10.600 for one that knows only the step "
        "before; "
        "test split 5.700. Its pieces were drawn by temperature "
        "sampling at temperature 1, each starting from silence."
    ) in html
    # A batch drawn from a stopped run's checkpoint is described by that checkpoint.
    GenerationBatch.objects.filter(pk=batch.pk).update(settings={"checkpoint_epoch": 1})
    TrainingRun.objects.filter(pk=batch.run_id).update(
        best_epoch=None, status=Status.FAILED, history=[{"valid_nll": 13.7}]
    )
    page = " ".join(researcher.get(f"/reports/{study.slug}/").content.decode().split())
    assert "for 1 epoch, sampled from epoch 1; validation NLL 13.700 per step" in page
    assert "(it has not learned from its input: its pieces are noise)" in page


def test_a_published_report_does_not_change_when_answers_do(study, researcher):
    published = publish(researcher, study.slug)
    before = Client().get(f"/results/{published.token}/").content
    judge(lambda i: True)
    take_study(Client(), study.slug)
    assert Client().get(f"/results/{published.token}/").content == before
    assert (
        "4 participants analysed"
        in Client().get(f"/results/{publish(researcher, study.slug).token}/").content.decode()
    )


def test_publishing_again_with_nothing_new_keeps_the_one_copy(study, researcher):
    first = publish(researcher, study.slug)
    page = researcher.post(f"/reports/{study.slug}/publish/", follow=True).content.decode()
    assert "Already published" in page and first.get_absolute_url() in page
    assert PublishedReport.objects.count() == 1
    researcher.post(f"/reports/{study.slug}/published/{first.pk}/withdraw/")
    assert publish(researcher, study.slug) != first  # withdrawn, so a new link is wanted


def test_a_report_without_an_analysed_participant_is_not_published(researcher):
    empty = open_study(slug="unanswered", trials=8, attention=0)
    page = researcher.post(f"/reports/{empty.slug}/publish/", follow=True).content.decode()
    assert "Nothing was published" in page
    assert not PublishedReport.objects.exists()


def test_withdrawing_closes_the_link(study, researcher):
    published = publish(researcher, study.slug)
    page = researcher.get(f"/reports/{study.slug}/").content.decode()
    assert published.get_absolute_url() in page
    response = researcher.post(f"/reports/{study.slug}/published/{published.pk}/withdraw/")
    assert response.status_code == 302
    assert Client().get(f"/results/{published.token}/").status_code == 404
    assert Client().get(f"/results/{published.token}/report.json").status_code == 404
    assert "withdrawn" in researcher.get(f"/reports/{study.slug}/").content.decode()


def test_an_unknown_link_finds_nothing():
    assert Client().get("/results/not-a-token/").status_code == 404


def test_readers_may_not_publish_or_withdraw(study, researcher):
    published = publish(researcher, study.slug)
    reader = Client()
    reader.force_login(make_reader())
    assert reader.post(f"/reports/{study.slug}/publish/").status_code == 403
    withdraw = f"/reports/{study.slug}/published/{published.pk}/withdraw/"
    assert reader.post(withdraw).status_code == 403
    assert PublishedReport.objects.count() == 1
    assert PublishedReport.objects.get().withdrawn_at is None
    assert Client().post(f"/reports/{study.slug}/publish/").status_code == 302  # to the login
    assert PublishedReport.objects.count() == 1


def test_publishing_needs_a_post(study, researcher):
    assert researcher.get(f"/reports/{study.slug}/publish/").status_code == 405
    assert not PublishedReport.objects.exists()


def test_a_pair_study_publishes_its_own_analysis(researcher, settings):
    study = open_study("pairs-shared", design="pair", trials=4, n_human=6, machine={"seq2seq": 4})
    take_study(Client(), study.slug)
    Participant.objects.update(excluded=False, exclusion_reason="")  # whatever clip was drawn
    published = publish(researcher, study.slug)
    html = Client().get(f"/results/{published.token}/").content.decode()
    assert "Can listeners tell the person's excerpt from the machine's?" in html
    assert not re.search(r'href="/(dashboard|reports|admin)/', html)


def make_reader():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("reader", password="a-long-passphrase-2")
