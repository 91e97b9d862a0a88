"""The dashboard's "Import an external generator" form, the pages an imported batch shows on,
and its admin."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.views import generators
from generation.models import ExternalGenerator, GenerationBatch, Piece
from tests.dashboard.helpers import (  # noqa: F401 - fixtures
    melody,
    researcher_fixture,
    small_corpus_fixture,
)

pytestmark = pytest.mark.django_db


def a_zip(files: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return SimpleUploadedFile("coconet.zip", buffer.getvalue(), "application/zip")


def form(files, **fields) -> dict:
    return {"name": "Coconet", "version": "", "description": "", "corpus": "mini",
            "files": files} | fields  # fmt: skip


def test_a_zip_with_one_corrupt_file_is_refused_by_name(client, researcher, small_corpus):
    pieces = Piece.objects.count()
    upload = a_zip({"ok.mid": melody(11), "bad.mid": b"MThd rubbish", "ok2.mid": melody(12)})
    response = client.post(reverse("dashboard:generator-import"), form([upload]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "coconet.zip:bad.mid: not a readable MIDI file" in page
    assert "nothing was imported" in page
    assert not ExternalGenerator.objects.exists() and not GenerationBatch.objects.exists()
    assert Piece.objects.count() == pieces


def test_a_corrupt_loose_file_is_named_by_the_form(client, researcher, small_corpus):
    files = [SimpleUploadedFile("fine.mid", melody(11)), SimpleUploadedFile("empty.mid", b"")]
    response = client.post(reverse("dashboard:generator-import"), form(files))
    assert response.status_code == 400
    assert "empty.mid" in response.content.decode()
    assert not GenerationBatch.objects.exists()


def test_too_many_files_for_one_request_are_sent_to_the_command(
    client, researcher, small_corpus, monkeypatch
):
    monkeypatch.setattr(generators, "MAX_FILES", 2)
    upload = a_zip({f"{i}.mid": melody(20 + i) for i in range(3)})
    response = client.post(reverse("dashboard:generator-import"), form([upload]))
    assert response.status_code == 400
    assert "manage.py import_generated" in response.content.decode()
    assert not GenerationBatch.objects.exists()


def test_a_good_import_shows_its_batch_everywhere_a_batch_shows(client, researcher, small_corpus):
    upload = a_zip({"one.mid": melody(11), "copy.mid": melody(2)})
    link = "https://example.org/coconet"
    response = client.post(
        reverse("dashboard:generator-import"), form([upload], version="2", description=link)
    )
    assert response.status_code == 302
    batch = GenerationBatch.objects.get()
    assert response["Location"] == reverse("dashboard:batch", args=[batch.pk])
    page = client.get(response["Location"]).content.decode()
    assert "imported from Coconet 2" in page and f'href="{link}"' in page
    assert "1 of 2 flagged" in page  # copy.mid is a piece of the corpus it imitates
    for url in ("/dashboard/batches/", "/dashboard/", "/dashboard/stimuli/"):
        assert "Coconet 2" in client.get(url).content.decode(), url


def test_an_imported_generator_and_its_batch_open_in_the_admin(admin_client, small_corpus):
    upload = a_zip({"one.mid": melody(11)})
    admin_client.post(reverse("dashboard:generator-import"), form([upload]))
    generator = ExternalGenerator.objects.get()
    batch = GenerationBatch.objects.get()
    for url in (
        reverse("admin:generation_externalgenerator_changelist"),
        reverse("admin:generation_externalgenerator_change", args=[generator.pk]),
        reverse("admin:generation_generationbatch_changelist"),
        reverse("admin:generation_generationbatch_change", args=[batch.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get(reverse("admin:generation_externalgenerator_add")).status_code == 403
