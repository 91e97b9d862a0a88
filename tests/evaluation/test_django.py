"""The evaluation app's Django shell: tables from real survey rows, pages, downloads, command."""

import io
import json
import re
import secrets

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils.html import escape

from dashboard.templatetags.report_format import num, p_is, percent, points, pvalue, signed
from evaluation import tidy
from evaluation.dataset import answer_tables, objective_metrics
from surveys.models import Answer, Participant, Study
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
def answered_study():
    # Eight trials show every participant the whole pool (4 human, 2 per model), so each model's
    # statistics rest on both its excerpts and all three participants, whatever the draw.
    study = open_study(slug="listen", trials=8, attention=1)
    for _ in range(3):
        take_study(Client(), study.slug)
    follow(Client(), f"/s/{study.slug}/")  # one who only opened the link: no row
    # The walk-through answers "a person" everywhere, so whether a participant passes the
    # attention check depends on which clip was drawn; keep everyone, as if they had passed.
    Participant.objects.filter(completed_at__isnull=False).update(
        attention_passed=True, attention_failed=0, excluded=False, exclusion_reason=""
    )
    # Make the answers differ, so the statistics have something to estimate.
    for i, answer in enumerate(Answer.objects.filter(trial__kind="experimental")):
        answer.judged_human = i % 3 == 0
        answer.correct = answer.judged_human == (answer.trial.item.source_kind == "human")
        answer.save()
    return study


def test_answer_tables_from_a_real_survey(answered_study):
    frame, funnel = answer_tables(answered_study)
    assert len(frame) == 3 * 8
    assert set(frame[tidy.SOURCE_KIND]) == {"human", "machine"}
    assert set(frame[tidy.SOURCE]) <= {"human", "seq2seq", "token_lstm"}
    machine = frame[frame[tidy.SOURCE_KIND] == "machine"]
    assert (machine[tidy.BATCH] != "").all()
    assert (frame.loc[frame[tidy.SOURCE_KIND] == "human", tidy.BATCH] == "").all()
    assert frame[tidy.COMPLETED].all() and not frame[tidy.EXCLUDED].any()
    assert len(funnel) == 3
    assert funnel[tidy.COMPLETED].sum() == 3
    tokens = set(Participant.objects.values_list("token", flat=True))
    assert not tokens & set(frame[tidy.PARTICIPANT].astype(str))
    assert not tokens & set(funnel[tidy.PARTICIPANT])


def test_empty_study_gives_empty_tables():
    study = open_study(slug="quiet", trials=4, attention=0)
    frame, funnel = answer_tables(study)
    assert frame.empty and funnel.empty


@pytest.fixture
def bare_study():
    """A study with no pool and no answers: enough for access and input checks."""
    return Study.objects.create(slug="bare", title="Bare", consent_text="ok")


@pytest.fixture
def researcher_client():
    user = make_researcher("researcher", password="a-long-passphrase-1")
    client = Client()
    client.force_login(user)
    return client


def test_report_pages_need_a_login(bare_study):
    for path in ("", "report.json", "answers.csv", "tables/sources.csv", "metrics/"):
        response = Client().get(f"/reports/{bare_study.slug}/{path}")
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_report_page_and_downloads(answered_study, researcher_client):
    base = f"/reports/{answered_study.slug}"
    response = researcher_client.get(f"{base}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Rate judged human",
        "Funnel",
        "<svg",
        "d' (CI of the test of d' = 0)",
        "Kruskal-Wallis",
        "seq2seq",
    ):
        assert text in html
    # Four opened the link, three walked through; nobody is recorded before consenting.
    words = " ".join(html.split())
    assert "The link was opened 4 times" in words and "recorded (from consent on)" in words
    data = json.loads(researcher_client.get(f"{base}/report.json?margin=0.05").content)
    assert data["settings"]["margin"] == 0.05
    assert data["settings"]["d_prime_margin"] == 0.3  # fixed when the study opened
    assert {row["group"] for row in data["sources"]} >= {"human"}
    assert set(data["headline"]) == {
        "baseline",
        "passing",
        "distinguishable",
        "undecided",
        "detectable",
    }
    data = json.loads(researcher_client.get(f"{base}/report.json?d_prime_margin=0.5").content)
    assert data["settings"]["d_prime_margin"] == 0.5
    assert any("'listeners cannot tell' verdicts as exploratory" in n for n in data["notes"])
    answers = researcher_client.get(f"{base}/answers.csv")
    assert answers["Content-Disposition"].startswith("attachment")
    table = pd.read_csv(io.StringIO(answers.content.decode()))
    assert list(table.columns) == list(tidy.COLUMNS) and len(table) == 24
    sources = researcher_client.get(f"{base}/tables/sources.csv")
    assert "rate_human" in sources.content.decode()


def test_report_page_says_which_model_passes_and_links_batches(answered_study, researcher_client):
    html = researcher_client.get(f"/reports/{answered_study.slug}/").content.decode()
    assert "Does a model pass for human?" in html
    assert "Human excerpts were judged human" in html
    # Three participants show nothing either way: no pass, and no claim that models failed.
    assert "No model was shown to pass for human" in html
    assert "No model passes" not in html
    headline = html.split('id="settings-h"')[0]
    assert "CI" in headline and "for the equivalence test" in headline
    assert "Verdict (d' margin ±0.3)" in html and "Participants' mean d'" in html
    for batch in answered_study.items.exclude(batch=None).values_list("batch_id", flat=True):
        assert f'href="/dashboard/batches/{batch}/"' in html
    # The musicality test that holds its size comes first; the other says why it does not.
    assert html.index("<h3>By excerpt</h3>") < html.index("<h3>By judgment</h3>")
    assert "these p-values are too small" in html.split("<h3>By judgment</h3>")[1]
    assert not re.search(r"\bnan\b", html, re.IGNORECASE)  # no NaN leaks into any table
    assert 'role="img"' in html and "<?xml" not in html


def test_report_page_with_a_model_nobody_judged(answered_study, researcher_client):
    Answer.objects.filter(trial__item__source="token_lstm").delete()
    response = researcher_client.get(f"/reports/{answered_study.slug}/")
    assert response.status_code == 200
    headline = response.content.decode().split('id="settings-h"')[0]
    assert "seq2seq" in headline and "token_lstm" not in headline


def test_report_page_without_human_judgments_says_there_is_no_baseline(
    answered_study, researcher_client
):
    Answer.objects.filter(trial__item__source_kind="human").delete()
    response = researcher_client.get(f"/reports/{answered_study.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No human excerpts were judged, so no model can be compared with them." in html
    assert "verdict pass" not in html


@pytest.mark.parametrize("missing", [None, float("nan"), float("inf"), "", "x", True])
def test_missing_numbers_show_as_a_dash(missing):
    for fmt in (num, signed, pvalue, percent, points):
        assert fmt(missing) == "–"
    assert p_is(missing) == "p –"


def test_numbers_are_formatted_for_reading():
    assert percent(0.65789473684) == "65.8%"
    assert points(-0.34217) == "-34.2" and points(0.009) == "+0.9"
    assert pvalue(0.0004) == "<0.001" and pvalue(0.01234) == "0.012"
    assert p_is(0.0004) == "p < 0.001" and p_is(0.5) == "p = 0.500"
    assert num(1.23456, 2) == "1.23" and signed(0.5) == "+0.500"


@pytest.mark.parametrize(
    "query",
    ["margin=abc", "margin=0", "margin=0.7", "alpha=1", "d_prime_margin=0", "d_prime_margin=x"],
)
def test_bad_settings_are_refused_clearly(bare_study, researcher_client, query):
    response = researcher_client.get(f"/reports/{bare_study.slug}/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"must be" in response.content
    assert f'href="/reports/{bare_study.slug}/"'.encode() in response.content
    download = researcher_client.get(f"/reports/{bare_study.slug}/report.json?{query}")
    assert download.status_code == 400 and b"must be" in download.content


def test_unknown_study_or_table_is_not_found(bare_study, researcher_client):
    assert researcher_client.get("/reports/nope/").status_code == 404
    assert researcher_client.get(f"/reports/{bare_study.slug}/tables/x.csv").status_code == 404
    # A study nobody has answered yet still has a (nearly empty) report.
    response = researcher_client.get(f"/reports/{bare_study.slug}/")
    assert b"No analysable judgments yet." in response.content


def test_metrics_and_command(answered_study, researcher_client):
    # The survey factories store placeholder MIDI bytes: every piece is unreadable.
    tables = objective_metrics(answered_study)
    assert "unreadable" in tables and "memorisation" in tables
    response = researcher_client.get(f"/reports/{answered_study.slug}/metrics/")
    assert response.status_code == 200
    assert b"unreadable" in response.content
    # No model is compared, and the page says so; the errors read as text, not as a dash.
    page = response.content.decode()
    assert "data-no-comparison" in page
    assert escape(tables["unreadable"]["error"].iloc[0]) in page
    pieces = tables["memorisation"]["pieces"].iloc[0]
    assert f"<td>{pieces}</td>" in page

    out = io.StringIO()
    call_command("report", answered_study.slug, stdout=out)
    text = out.getvalue()
    assert "Rate judged human per source" in text and "Funnel:" in text
    out = io.StringIO()
    call_command("report", answered_study.slug, "--json", "--margin", "0.2", stdout=out)
    assert json.loads(out.getvalue())["settings"]["margin"] == 0.2


def test_report_command_refuses_unknown_study_and_bad_margin(bare_study):
    with pytest.raises(CommandError, match="no study"):
        call_command("report", "nope")
    with pytest.raises(CommandError, match="margin"):
        call_command("report", bare_study.slug, "--margin", "2")
    with pytest.raises(CommandError, match="d-prime-margin"):
        call_command("report", bare_study.slug, "--d-prime-margin", "0")


def test_the_margins_fixed_at_opening_are_the_defaults_and_a_change_is_flagged():
    study = open_study(
        slug="planned",
        exclusion_rules={
            "headphone_min_correct": 0,
            "equivalence_margin_points": 15,
            "equivalence_margin_d_prime": 0.5,
        },
    )
    planned = io.StringIO()
    call_command("report", study.slug, "--json", stdout=planned)
    report = json.loads(planned.getvalue())
    assert report["settings"]["margin"] == 0.15
    assert report["settings"]["d_prime_margin"] == 0.5
    assert not any("verdicts as exploratory" in note for note in report["notes"])
    other = io.StringIO()
    call_command("report", study.slug, "--json", "--margin", "0.1", stdout=other)
    notes = json.loads(other.getvalue())["notes"]
    assert any("'passes' verdicts as exploratory" in note for note in notes)
    assert not any("'listeners cannot tell'" in note for note in notes)
    other = io.StringIO()
    call_command("report", study.slug, "--json", "--d-prime-margin", "0.3", stdout=other)
    notes = json.loads(other.getvalue())["notes"]
    assert any("'listeners cannot tell' verdicts as exploratory" in note for note in notes)
    assert not any("'passes' verdicts" in note for note in notes)
    other = io.StringIO()
    call_command("report", study.slug, "--json", "--alpha", "0.4", stdout=other)
    notes = json.loads(other.getvalue())["notes"]
    assert any("Alpha here is 0.4, not the 0.05" in note for note in notes)
