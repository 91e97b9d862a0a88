"""Every participant page is well-formed for assistive technology: ids are unique, every ARIA
or label reference points at an element that exists, every answer control has a name, and
radio groups sit in a fieldset with a legend. Checked on the pages a real walk receives,
including the pages that show errors."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.surveys.factories import open_study
from tests.surveys.helpers import ANSWER, QUESTIONNAIRE, follow, take_study

pytestmark = pytest.mark.django_db

CONTROLS = {"input", "select", "textarea"}
REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls")


class PageStructure(HTMLParser):
    """Collects ids, references to ids, and how each form control is labelled."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.references: list[tuple[str, str]] = []
        self.label_for: list[str] = []
        self.controls: list[dict] = []
        self.open_labels = 0
        self.fieldsets: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in REFERENCES:
            self.references += [(name, ref) for ref in (attrs.get(name) or "").split()]
        if tag == "label":
            self.open_labels += 1
            if "for" in attrs:
                self.label_for.append(attrs["for"])
        if tag == "fieldset":
            self.fieldsets.append({"legend": False})
        if tag == "legend" and self.fieldsets:
            self.fieldsets[-1]["legend"] = True
        if tag in CONTROLS and attrs.get("type") != "hidden":
            in_legend_group = bool(self.fieldsets and self.fieldsets[-1]["legend"])
            self.controls.append(
                {**attrs, "_wrapped": self.open_labels > 0, "_group": in_legend_group}
            )

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1
        if tag == "fieldset" and self.fieldsets:
            self.fieldsets.pop()

    def problems(self) -> list[str]:
        found = [f"duplicate id {i}" for i in sorted(set(self.ids)) if self.ids.count(i) > 1]
        known = set(self.ids)
        found += [f"{name} -> missing #{ref}" for name, ref in self.references if ref not in known]
        found += [f"label for missing #{ref}" for ref in self.label_for if ref not in known]
        for control in self.controls:
            named = (
                control["_wrapped"]
                or control.get("id") in self.label_for
                or control.get("aria-label")
                or control.get("aria-labelledby")
            )
            if not named:
                found.append(f"unlabelled {control.get('name')}")
            if control.get("type") == "radio" and not control["_group"]:
                found.append(f"radio {control.get('name')} outside a fieldset with a legend")
        return found


def _problems(response) -> list[str]:
    parser = PageStructure()
    parser.feed(response.content.decode())
    return parser.problems()


def _html(responses) -> list:
    return [r for r in responses if r["Content-Type"].startswith("text/html")]


def test_every_participant_page_is_well_formed_for_screen_readers():
    study = open_study(slug="pages", practice_trial=True)
    client = Client()
    entry = follow(client, f"/s/{study.slug}/")
    pages = [entry, client.post(entry.request["PATH_INFO"], {})]  # consent, and its error
    take_study(client, study.slug, seen=pages)
    pages = _html(pages)
    paths = {r.request["PATH_INFO"].split("/")[3] for r in pages}
    assert paths >= {"consent", "headphones", "instructions", "t", "done"}
    for response in pages:
        assert _problems(response) == [], response.request["PATH_INFO"]


def test_questionnaire_errors_are_tied_to_their_fields():
    study = open_study(slug="qerr", attention=0, headphone_trials=0, practice_trial=False)
    client = Client()
    response = follow(client, f"/s/{study.slug}/")
    follow(client, response.request["PATH_INFO"], {"agree": "on"})
    response = follow(client, f"/s/{study.slug}/instructions/", {})
    while "/t/" in response.request["PATH_INFO"]:
        response = follow(client, response.request["PATH_INFO"], ANSWER)
    assert _problems(response) == []
    bad = client.post(f"/s/{study.slug}/questions/", {**QUESTIONNAIRE, "mt3": "", "age_band": ""})
    page = bad.content.decode()
    assert _problems(bad) == []
    assert 'aria-describedby="id_mt3_error"' in page and 'id="id_mt3_error"' in page
    assert page.count("Please choose one answer.") == 2
