"""Every file goes through Django's storage API, so a bucket can replace the local folder: no
code outside the settings names MEDIA_ROOT, builds a storage of its own, or asks a stored file
for its local path or its storage URL (the bucket may be private, and a URL would tell a
participant which file they hear)."""

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

ROOT = Path(settings.BASE_DIR)
APP_PACKAGES = ["config", "worker", "generation", "audio", "surveys", "evaluation", "dashboard"]
ALLOWED = {ROOT / "config" / "settings.py", ROOT / "config" / "storage.py"}


def _file_field_names() -> set[str]:
    return {
        field.name
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }


def _forbidden() -> list[re.Pattern]:
    fields = "|".join(sorted(_file_field_names()))
    return [
        re.compile(r"\bMEDIA_(ROOT|URL)\b"),
        re.compile(r"\bFileSystemStorage\b|\bS3Storage\(|\bboto3\b"),
        re.compile(rf"\.({fields})\.(path|url)\b"),
        re.compile(r"storage\.(path|url)\("),
    ]


def _sources() -> list[Path]:
    """The apps' Python code and every template."""
    code = [path for package in APP_PACKAGES for path in (ROOT / package).rglob("*.py")]
    templates = list((ROOT / "templates").rglob("*.html"))
    return [p for p in code + templates if p not in ALLOWED and "migrations" not in p.parts]


def test_the_scan_sees_the_file_fields_and_the_code():
    assert {"midi", "audio_mp3", "audio_ogg", "roll_png"} <= _file_field_names()
    assert len(_sources()) > 50


def test_no_code_opens_a_media_path_or_hands_out_a_storage_url():
    patterns = _forbidden()
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if any(pattern.search(line) for pattern in patterns)
    ]
    assert not found, "go through django.core.files.storage instead:\n" + "\n".join(found)


def test_the_scan_catches_what_it_forbids():
    patterns = _forbidden()
    for line in (
        "folder = Path(settings.MEDIA_ROOT) / 'x'",
        "open(stimulus.audio_mp3.path, 'rb')",
        "url = piece.midi.url",
        '<audio src="{{ stimulus.audio_mp3.url }}">',
        "{{ MEDIA_URL }}x.mp3",
        "default_storage.path(name)",
        "FileSystemStorage(location='/data')",
    ):
        assert any(p.search(line) for p in patterns), line
    assert not any(p.search("request.path, sys.path, stimulus.audio_mp3.name") for p in patterns)
