"""Every page says, in its Content-Security-Policy, that only this site's own scripts run; no
template carries a script of its own for that policy to block. (The browser tests fail on any
refusal the browser reports, so pages that break under the policy are caught there.)"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import make_researcher
from tests.surveys.factories import open_study

TEMPLATES = Path(settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.django_db
def test_participant_and_researcher_pages_allow_only_the_sites_own_scripts():
    open_study("listen")
    researcher = Client()
    researcher.force_login(make_researcher())
    for response in (
        Client().get("/s/listen/consent/"),
        researcher.get("/dashboard/"),
        researcher.get("/reports/listen/"),
    ):
        policy = directives(response)
        assert policy["script-src"] == "'self'"
        assert policy["default-src"] == "'self'"
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["form-action"] == "'self'"


def test_no_template_has_an_inline_script_or_event_handler():
    found = [
        f"{path.relative_to(TEMPLATES)}: {match[0]}"
        for path in TEMPLATES.rglob("*.html")
        for match in INLINE_SCRIPT.finditer(path.read_text())
    ]
    assert not found, found
