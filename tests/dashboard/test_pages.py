"""The researcher dashboard: login required, corpora import and upload, forms refuse bad input."""

import io
import re
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard import forms as dashboard_forms
from dashboard.charts import Series, line_chart, piano_roll
from dashboard.jobs import JobView, format_duration
from generation.models import Corpus
from surveys.models import Study
from tests.conftest import make_researcher
from tests.dashboard.helpers import (  # noqa: F401 - fixtures
    melody,
    researcher_fixture,
)

PAGES = [
    "/dashboard/",
    "/dashboard/corpora/",
    "/dashboard/runs/",
    "/dashboard/runs/new/",
    "/dashboard/batches/",
    "/dashboard/batches/new/",
    "/dashboard/generators/import/",
    "/dashboard/stimuli/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES + ["/dashboard/progress/run/1/", "/dashboard/pieces/1/"])
def test_every_dashboard_page_needs_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_dashboard_pages_render_for_a_researcher(client, researcher, url):
    response = client.get(url)
    assert response.status_code == 200
    assert b"Turing-test lab" in response.content


@pytest.mark.django_db
def test_home_shows_the_queues_and_who_serves_them(client, researcher):
    page = client.get("/dashboard/").content.decode()
    assert "gpu" in page and "cpu" in page
    assert "Workers listening" in page


@pytest.mark.django_db
def test_home_links_each_study_and_its_report(client, researcher):
    assert "Create a study" in client.get("/dashboard/").content.decode()
    Study.objects.create(slug="pilot", title="Pilot", consent_text="ok")
    page = client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/studies/pilot/"' in page and 'href="/reports/pilot/"' in page


@pytest.mark.django_db
def test_login_page_logs_a_researcher_in(client, django_user_model):
    make_researcher("ada", password="a-long-password-1")
    response = client.post("/accounts/login/", {"username": "ada", "password": "a-long-password-1"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_uploading_midi_and_a_zip_imports_them(client, researcher, eager_celery):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/one.mid", melody(1))
        archive.writestr("two.midi", melody(2))
        archive.writestr("notes.txt", "not music")
    files = [
        SimpleUploadedFile("three.mid", melody(3), "audio/midi"),
        SimpleUploadedFile("set.zip", buffer.getvalue(), "application/zip"),
    ]
    response = client.post(reverse("dashboard:corpus-upload"), {"title": "My set", "files": files})
    assert response.status_code == 302
    corpus = Corpus.objects.get(slug="my-set")
    assert corpus.pieces.count() == 3
    result_page = client.get(response["Location"]).content.decode()
    assert "3 new" in result_page
    folders, _ = default_storage.listdir("uploads")
    assert folders and not any(default_storage.listdir(f"uploads/{f}")[1] for f in folders)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("broken.mid", b"MThd garbage", "not a readable MIDI file"),
        ("empty.mid", b"", "empty"),
        ("score.pdf", b"%PDF", "only .mid, .midi and .zip"),
        ("bad.zip", b"PK not really", "not a valid zip"),
    ],
)
def test_a_bad_upload_says_why_and_changes_nothing(client, researcher, name, data, reason):
    upload = SimpleUploadedFile(name, data)
    response = client.post(reverse("dashboard:corpus-upload"), {"title": "x", "files": [upload]})
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert name in response.content.decode()  # the bad file is named, an empty one too
    assert not Corpus.objects.exists()


@pytest.mark.django_db
def test_more_midi_than_one_request_can_read_is_refused_with_the_way_round(
    client, researcher, monkeypatch
):
    monkeypatch.setattr(dashboard_forms, "MAX_FORM_MIDI_BYTES", len(melody(1)) * 2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("one.mid", melody(1))
        archive.writestr("two.mid", melody(2))
    files = [
        SimpleUploadedFile("three.mid", melody(3), "audio/midi"),
        SimpleUploadedFile("set.zip", buffer.getvalue(), "application/zip"),
    ]
    response = client.post(reverse("dashboard:corpus-upload"), {"title": "Big", "files": files})
    assert response.status_code == 400
    assert "more than one upload may" in response.content.decode()
    assert "manage.py import_corpus" in response.content.decode()
    assert not Corpus.objects.exists()


@pytest.mark.django_db
def test_an_upload_with_a_long_file_name_is_stored_under_a_shorter_one(
    client, researcher, eager_celery
):
    upload = SimpleUploadedFile("b" * 250 + ".mid", melody(1), "audio/midi")
    response = client.post(reverse("dashboard:corpus-upload"), {"title": "Long", "files": [upload]})
    assert response.status_code == 302
    assert Corpus.objects.get(slug="long").pieces.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "title, reason", [("gen-5", "is not an upload (generated by a model)"), ("x" * 150, "too long")]
)
def test_a_corpus_name_no_upload_can_take_is_refused(client, researcher, title, reason):
    # Uploaded pieces put into a model's generated corpus were labelled as that model's.
    Corpus.objects.create(slug="gen-5", title="gen-5", source=Corpus.Source.GENERATED)
    upload = SimpleUploadedFile("one.mid", melody(1), "audio/midi")
    response = client.post(reverse("dashboard:corpus-upload"), {"title": title, "files": [upload]})
    assert response.status_code == 400 and reason in response.content.decode()
    assert Corpus.objects.count() == 1


@pytest.mark.django_db
def test_a_new_batch_page_ignores_a_run_that_is_not_a_number(client, researcher):
    assert client.get(reverse("dashboard:batch-new") + "?run=abc").status_code == 200


@pytest.mark.django_db
def test_a_bundled_import_of_an_unknown_corpus_is_refused(client, researcher):
    response = client.post(reverse("dashboard:corpus-import"), {"name": "mozart"})
    assert response.status_code == 400
    assert not Corpus.objects.exists()


@pytest.mark.django_db
def test_a_bundled_import_is_queued_and_its_page_reports_the_result(
    client, researcher, eager_celery
):
    response = client.post(reverse("dashboard:corpus-import"), {"name": "bach", "limit": 2})
    assert response.status_code == 302
    assert Corpus.objects.get(slug="bach").pieces.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "2 new" in page
    assert "import bach" in client.get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_progress_of_an_unknown_task_reads_as_queued(client, researcher):
    data = client.get(reverse("dashboard:task-progress", args=["no-such-task"])).json()
    assert data["state"] == "queued" and data["finished"] is False


def test_job_states_read_as_words():
    assert JobView("running", 40.0, 75.0).words == "running, 40% done, about 1 min 15 s left"
    assert JobView("failed", 0.0, None, error="ValueError: no pieces").words == (
        "failed: ValueError: no pieces"
    )
    assert JobView("queued", 0.0, None).words.startswith("queued")
    assert format_duration(7300) == "2 h 01 min"


def test_line_chart_draws_each_series_and_skips_missing_values():
    svg = line_chart(
        "Loss", [Series("train", [(1, 2.0), (2, 1.5)]), Series("valid", [(1, None), (2, 1.7)])]
    )
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    assert "train" in svg and "valid" in svg
    assert "no values yet" in line_chart("F1", [Series("train", [(1, None)])])


def test_line_chart_marks_the_best_epoch_only_inside_its_range():
    series = [Series("valid", [(1, 2.0), (2, 1.5), (3, 1.6)])]
    assert "stroke-dasharray" in line_chart("Loss", series, mark=(2, "best"))
    assert ">best</text>" in line_chart("Loss", series, mark=(2, "best"))
    assert "stroke-dasharray" not in line_chart("Loss", series, mark=(9, "best"))
    assert "stroke-dasharray" not in line_chart("Loss", series)


@pytest.mark.parametrize("low, high", [(0.0755, 0.0792), (13.55, 13.99), (1.2, 13.9), (-3.2, 5.1)])
def test_a_charts_axis_labels_never_repeat_and_stay_inside_the_plot(low, high):
    # A loss between 0.076 and 0.079 once read 0.079, 0.079, 0.078, ... down its axis.
    svg = line_chart("Loss", [Series("valid", [(1, low), (2, high)])])
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert len(labels) >= 3 and len(set(labels)) == len(labels)
    assert all(low <= float(label) <= high for label in labels)


def test_piano_roll_draws_one_bar_per_note():
    svg = piano_roll([(60, 0.0, 1.0), (64, 0.5, 1.5), (67, 1.0, 2.0)])
    assert svg.count('fill="#2456c9"') == 3
