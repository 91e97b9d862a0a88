"""Researchers create, open and follow studies from the dashboard or the command line."""

import csv
import io
import json
import shutil

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from dashboard.forms import StudyForm
from surveys.models import Stimulus, Study
from tests.conftest import make_researcher
from tests.surveys.factories import draft_study, make_attention_clips, make_stimuli, open_study
from tests.surveys.helpers import agree, follow, take_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher() -> Client:
    client = Client()
    client.force_login(make_researcher("ada", password="pw-long-enough-1"))
    return client


def test_study_pages_need_a_login():
    response = Client().get("/dashboard/studies/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_open_and_follow_a_study(researcher):
    stimuli = make_stimuli(2, {"seq2seq": 2})
    response = researcher.post(
        "/dashboard/studies/new/",
        {
            "slug": "pilot",
            "title": "Listening study",
            "consent_text": "ok",
            "instructions": "listen",
            "trials_per_participant": 4,
            "attention_checks": 0,
            "headphone_trials": 0,
            "headphone_screen_out": "on",
            "screen_out_message": "This study needs headphones.",
            "screen_out_url": "https://app.prolific.com/submissions/complete?cc={code}",
            "target_participants": 10,
            "overbooking": 2,
            "time_limit_minutes": 45,
            "pool": [s.pk for s in stimuli],
            "rules_json": json.dumps({"headphone_min_correct": 0}),
        },
    )
    assert response.status_code == 302
    study = Study.objects.get(slug="pilot")
    assert study.state == "draft" and study.items.count() == 4
    assert study.items.filter(source="seq2seq", batch__isnull=False).count() == 2
    assert (study.places, study.time_limit_minutes, study.headphone_screen_out) == (12, 45, True)
    researcher.post("/dashboard/studies/pilot/open/")
    study.refresh_from_db()
    assert study.state == "open" and study.frozen_rules["headphone_min_correct"] == 0
    take_study(Client(), "pilot")
    page = researcher.get("/dashboard/studies/pilot/").content.decode()
    assert "1 of 10 completed" in page and "/s/pilot/" in page and "PROLIFIC_PID" in page
    assert "1 link opening ·" in page and "1 of 12 places taken" in page
    assert 'href="/reports/pilot/"' in page
    listing = researcher.get("/dashboard/studies/").content.decode()
    assert "pilot" in listing and 'href="/reports/pilot/"' in listing
    half_way = Client()
    agree(half_way, follow(half_way, "/s/pilot/"))
    report = researcher.get("/reports/pilot/").content.decode()
    assert "1 participant is still taking the study" in report
    researcher.post("/dashboard/studies/pilot/close/")
    assert Study.objects.get(slug="pilot").state == "closed"


def test_bad_form_input_changes_nothing(researcher):
    response = researcher.post(
        "/dashboard/studies/new/",
        {
            "slug": "x",
            "title": "t",
            "consent_text": "c",
            "trials_per_participant": 3,
            "attention_checks": 0,
            "headphone_trials": 0,
            "target_participants": 1,
            "rules_json": "{not json",
        },
    )
    assert response.status_code == 200
    assert b"even number" in response.content
    assert not Study.objects.exists()


def _form_of(study: Study, **changes) -> dict:
    """What the edit page's form posts back unchanged, with `changes`."""
    values = {name: getattr(study, name) for name in StudyForm.Meta.fields}
    data = {name: value for name, value in values.items() if value is not None}
    data["pool"] = list(study.items.values_list("stimulus_id", flat=True))
    data["rules_json"] = json.dumps(study.exclusion_rules)
    return data | changes


def test_a_draft_is_edited_until_it_can_open(researcher):
    study = draft_study(target_participants=0)
    page = researcher.get(f"/dashboard/studies/{study.slug}/").content.decode()
    assert "with 0, everyone is turned away" in page and "/edit/" in page
    assert "data-links-wait" in page  # its links answer 404 until it opens, and it says so
    study.attention_clips.clear()  # opening makes them: not a problem to show
    page = researcher.get(f"/dashboard/studies/{study.slug}/").content.decode()
    assert "attention clips" not in page and "attention clips" in " ".join(study.problems())
    assert study.participants.create(preview=True)
    kept = list(study.items.values_list("stimulus_id", flat=True))[1:]
    response = researcher.post(
        f"/dashboard/studies/{study.slug}/edit/",
        _form_of(study, target_participants=30, pool=kept, title="Renamed"),
    )
    assert response.status_code == 302
    study.refresh_from_db()
    assert (study.title, study.target_participants) == ("Renamed", 30)
    assert sorted(study.items.values_list("stimulus_id", flat=True)) == sorted(kept)
    assert not study.participants.exists()  # its preview drew on the old pool
    researcher.post(f"/dashboard/studies/{study.slug}/open/")
    study.refresh_from_db()
    assert study.state == "open"
    response = researcher.post(
        f"/dashboard/studies/{study.slug}/edit/", _form_of(study, title="Late"), follow=True
    )
    assert b"only a draft can be edited" in response.content
    assert Study.objects.get(pk=study.pk).title == "Renamed"


def test_a_study_link_is_lower_case_whatever_the_researcher_typed(researcher):
    draft_study("existing")
    study = draft_study("mixed")
    researcher.post(f"/dashboard/studies/{study.slug}/edit/", _form_of(study, slug="MyStudy"))
    assert Study.objects.filter(slug="mystudy").exists()
    response = researcher.post("/dashboard/studies/mystudy/edit/", _form_of(study, slug="Existing"))
    assert b"A study called existing exists already." in response.content


def test_the_study_page_warns_when_one_kind_of_excerpt_will_recur(researcher):
    even = draft_study("even")
    assert b"will be heard about" not in researcher.get(f"/dashboard/studies/{even.slug}/").content
    uneven = draft_study("uneven", n_human=2, machine={"seq2seq": 3, "token_lstm": 3})
    page = researcher.get(f"/dashboard/studies/{uneven.slug}/").content.decode()
    assert "each human excerpt will be heard about 3.0 times as often as each machine one" in page


def test_researchers_pages_and_downloads_are_never_kept_by_a_shared_cache(researcher):
    study = open_study()
    for url in ("/dashboard/studies/", f"/reports/{study.slug}/answers.csv"):
        cache_control = researcher.get(url)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control
    assert "Cache-Control" not in Client().get("/healthz")


def test_the_participants_export_lists_who_to_approve_on_prolific(researcher):
    study = open_study(
        headphone_trials=2, exclusion_rules={"headphone_min_correct": 2}, headphone_screen_out=True
    )
    take_study(Client(), study.slug, query="?PROLIFIC_PID=done1&STUDY_ID=s&SESSION_ID=a")
    half_way = Client()
    agree(half_way, follow(half_way, f"/s/{study.slug}/?PROLIFIC_PID=busy2"))
    study.participants.create(preview=True, prolific_pid="researcher")
    url = f"/reports/{study.slug}/participants.csv"
    assert "/accounts/login/" in Client().get(url)["Location"]
    text = researcher.get(url).content.decode()
    rows = {row["prolific_pid"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"done1", "busy2"}  # previews are not participants
    assert (rows["done1"]["code_given"], rows["done1"]["prolific_session_id"]) == (
        "completion",
        "a",
    )
    assert rows["done1"]["excluded"] in ("True", "False") and rows["done1"]["completed_at"]
    assert rows["busy2"]["code_given"] == "" and rows["busy2"]["completed_at"] == ""
    # Someone who has not finished is excluded by the default rules, in both files alike.
    assert (rows["busy2"]["excluded"], rows["busy2"]["exclusion_reason"]) == (
        "True",
        "did not complete",
    )
    answers = researcher.get(f"/reports/{study.slug}/answers.csv").content.decode()
    answered = {r["participant"]: r for r in csv.DictReader(io.StringIO(answers))}
    assert rows["done1"]["participant"] in answered
    for row in answered.values():
        person = next(r for r in rows.values() if r["participant"] == row["participant"])
        assert (row["excluded"], row["exclusion_reason"]) == (
            person["excluded"],
            person["exclusion_reason"],
        )


def test_the_participants_export_quotes_what_a_spreadsheet_would_run(researcher):
    study = open_study()
    study.participants.create(prolific_pid="=HYPERLINK(1)", prolific_study_id="-2+3")
    text = researcher.get(f"/reports/{study.slug}/participants.csv").content.decode()
    row = next(csv.DictReader(io.StringIO(text)))
    assert (row["prolific_pid"], row["prolific_study_id"]) == ("'=HYPERLINK(1)", "'-2+3")


def test_the_pool_names_each_excerpts_length(researcher):
    short, long = make_stimuli(2, {})
    Stimulus.objects.filter(pk=long.pk).update(params={"excerpt": {"bars": 16}})
    page = researcher.get("/dashboard/studies/new/").content.decode()
    assert f"{short} · 8 bars, 0.6 s" in page and f"{long} · 16 bars, 0.6 s" in page


def test_a_bad_edit_changes_nothing(researcher):
    study = draft_study()
    before = sorted(study.items.values_list("stimulus_id", flat=True))
    response = researcher.post(
        f"/dashboard/studies/{study.slug}/edit/",
        _form_of(study, trials_per_participant=3, pool=before[:1], title="Changed"),
    )
    assert response.status_code == 200 and b"even number" in response.content
    study.refresh_from_db()
    assert study.title == "Listening study"
    assert sorted(study.items.values_list("stimulus_id", flat=True)) == before


def test_a_pair_study_takes_an_odd_number_of_pairs(researcher):
    study = draft_study(design=Study.Design.PAIR, attention=0)
    for pairs, accepted in ((1, False), (3, True)):
        response = researcher.post(
            f"/dashboard/studies/{study.slug}/edit/",
            _form_of(study, trials_per_participant=pairs, attention_checks=0),
        )
        assert (response.status_code == 302) is accepted
        if not accepted:
            assert b"at least two pairs" in response.content
    assert Study.objects.get(pk=study.pk).trials_per_participant == 3


def test_opening_a_study_whose_rules_exclude_everyone_explains_why(researcher):
    study = draft_study(headphone_trials=3, exclusion_rules={"headphone_min_correct": 5})
    response = researcher.post(f"/dashboard/studies/{study.slug}/open/", follow=True)
    assert b"need 5 headphone trials answered correctly, but the study has 3" in response.content
    assert Study.objects.get(pk=study.pk).state == "draft"


def test_opening_an_incomplete_study_explains_why(researcher):
    Study.objects.create(slug="empty", title="t", consent_text="c", trials_per_participant=4)
    response = researcher.post("/dashboard/studies/empty/open/", follow=True)
    assert b"human excerpts" in response.content
    assert Study.objects.get(slug="empty").state == "draft"


def test_create_study_command():
    stimuli = make_stimuli(2, {"seq2seq": 2})
    clips = make_attention_clips()
    call_command(
        "create_study",
        "cmd",
        "--trials",
        "4",
        "--attention",
        "1",
        "--stimuli",
        *[str(s.pk) for s in stimuli],
    )
    study = Study.objects.get(slug="cmd")
    study.attention_clips.add(*clips)
    call_command(
        "create_study", "cmd2", "--trials", "4", "--attention", "0", "--all-ready", "--open"
    )
    assert Study.objects.get(slug="cmd2").state == "open"
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_study", "cmd")
    with pytest.raises(CommandError, match="no finished excerpt"):
        call_command("create_study", "cmd3", "--stimuli", "99999")
    with pytest.raises(CommandError, match="--rules"):
        call_command("create_study", "cmd4", "--rules", '{"bogus": 1}')
    with pytest.raises(CommandError, match="cannot open"):
        call_command("create_study", "cmd5", "--trials", "40", "--all-ready", "--open")


def test_admin_lists_render(admin_client):
    open_study()
    for page in ("study", "participant", "trial", "answer", "headphonetrial", "attentionclip"):
        assert admin_client.get(f"/admin/surveys/{page}/").status_code == 200


def test_the_admin_cannot_change_an_open_studys_design(admin_client):
    study = open_study()
    url = f"/admin/surveys/study/{study.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="trials_per_participant"' not in page and 'name="items-0-stimulus"' not in page
    admin_client.post(url, {"trials_per_participant": 40, "title": "Changed"})
    study.refresh_from_db()
    assert (study.trials_per_participant, study.title) == (4, "Listening study")
    draft = admin_client.get(f"/admin/surveys/study/{draft_study('other').pk}/change/")
    assert 'name="trials_per_participant"' in draft.content.decode()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_opening_makes_spoken_attention_clips_matched_to_the_pool():
    make_stimuli(2, {"seq2seq": 2})
    call_command(
        "create_study", "spoken", "--trials", "4", "--attention", "2", "--all-ready", "--open"
    )
    study = Study.objects.get(slug="spoken")
    clips = list(study.attention_clips.all())
    assert study.state == "open" and len(clips) == 2
    assert {c.expected_judged_human for c in clips} == {True, False}
    assert all(c.audio_mp3.size > 10000 for c in clips)
