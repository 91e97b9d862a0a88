"""Every model of the platform is in the admin, and every admin list page opens."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from generation.corpora import SourcePiece
from generation.importing import import_pieces, upload_corpus
from generation.midi_files import midi_bytes
from tests.conftest import make_midi

APPS = ("generation", "surveys")


def inline_models() -> set:
    return {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }


def test_every_model_is_registered_or_inline():
    missing = [
        model.__name__
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        if not admin.site.is_registered(model) and model not in inline_models()
    ]
    assert not missing


@pytest.mark.django_db
def test_every_admin_list_opens(admin_client):
    melody = make_midi([(60, 0, 1), (64, 1, 2), (67, 2, 4)])
    import_pieces(upload_corpus("admin check"), [SourcePiece("a.mid", "a", midi_bytes(melody))])
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            if admin.site.is_registered(model):
                url = reverse(f"admin:{app}_{model._meta.model_name}_changelist")
                assert admin_client.get(url).status_code == 200, url
