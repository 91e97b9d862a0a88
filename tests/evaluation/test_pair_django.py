"""A pair study's statistics from real survey rows: the pair table, the report page, the
downloads and ``manage.py report``, all for the design the study used."""

import html
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from evaluation import pairs
from evaluation.dataset import pair_answer_tables
from surveys.models import Answer, Participant, Trial
from tests.conftest import make_researcher
from tests.surveys.factories import open_study
from tests.surveys.helpers import QUESTIONNAIRE, take_study

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("survey_walks")]


@pytest.fixture
def pair_study():
    study = open_study(
        "pairs",
        design="pair",
        trials=4,
        n_human=6,
        machine={"seq2seq": 3, "token_lstm": 3},
        ask_experience=True,
    )
    for level in ("novice", "expert", "novice"):
        take_study(Client(), study.slug, questionnaire={**QUESTIONNAIRE, "music_experience": level})
    Participant.objects.update(
        attention_passed=True, attention_failed=0, excluded=False, exclusion_reason=""
    )
    # Answers that differ, so the statistics have something to estimate.
    for i, answer in enumerate(Answer.objects.filter(trial__kind="experimental")):
        answer.choice = "b" if i % 3 == 0 else "a"
        answer.correct = answer.choice == answer.trial.human_choice()
        answer.save()
    return study


def test_the_pair_table_reads_each_answered_pair(pair_study):
    frame, funnel = pair_answer_tables(pair_study)
    assert len(frame) == 12 and len(funnel) == 3
    assert set(frame[pairs.SOURCE]) <= {"seq2seq", "token_lstm"}
    assert set(frame[pairs.EXPERIENCE]) == {"novice", "expert"}
    for trial in Trial.objects.filter(kind="experimental").select_related("item", "answer"):
        a = str(trial.item.stimulus_id)
        mine = frame[frame[pairs.PARTICIPANT] == str(trial.participant_id)]
        row = mine[(mine[pairs.HUMAN_ITEM] == a) | (mine[pairs.MACHINE_ITEM] == a)].iloc[0]
        assert row[pairs.HUMAN_FIRST] == (trial.item.source_kind == "human")
        assert row[pairs.CHOSE_A] == (trial.answer.choice == "a")
        assert row[pairs.CORRECT] == trial.answer.correct


def test_the_report_command_shows_the_pair_analysis(pair_study):
    out = io.StringIO()
    call_command("report", pair_study.slug, stdout=out)
    text = out.getvalue()
    for words in ("Pair (2AFC) study pairs", "Proportion correct per model", "Position:"):
        assert words in text
    assert "BachBot's table" in text and "novice" in text
    out = io.StringIO()
    call_command("report", pair_study.slug, "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["design"] == "pair" and data["settings"]["margin"] == 0.1
    assert {row["source"] for row in data["models"]} >= {"seq2seq", "token_lstm"}


def test_the_report_page_and_downloads_follow_the_design(pair_study):
    researcher = Client()
    researcher.force_login(make_researcher("ada", password="pw-long-1x"))
    page = researcher.get(f"/reports/{pair_study.slug}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-pair-models" in body and "BachBot" in body and "Novice" in body
    assert "Position" in body
    # the funnel says, as the single design's does, why nobody is counted before consenting
    assert "data-funnel-note" in body and "Nobody is recorded before consenting" in body
    answers = researcher.get(f"/reports/{pair_study.slug}/answers.csv").content.decode()
    assert answers.splitlines()[0].startswith(",".join(pairs.COLUMNS[:4]))
    assert len(answers.splitlines()) == 13
    models = researcher.get(f"/reports/{pair_study.slug}/tables/models.csv")
    assert models.status_code == 200 and "pc" in models.content.decode().splitlines()[0]
    assert researcher.get(f"/reports/{pair_study.slug}/tables/sources.csv").status_code == 404
    report = json.loads(researcher.get(f"/reports/{pair_study.slug}/report.json").content)
    assert report["design"] == "pair" and report["position"]["chose_b"] == 4
    assert researcher.get(f"/reports/{pair_study.slug}/?margin=0.7").status_code == 400


def test_a_d_prime_margin_is_refused_for_a_pair_study_rather_than_ignored(pair_study):
    researcher = Client()
    researcher.force_login(make_researcher("ada", password="pw-long-1x"))
    page = researcher.get(f"/reports/{pair_study.slug}/?d_prime_margin=0.5")
    assert page.status_code == 400 and "no d' margin" in html.unescape(page.content.decode())
    with pytest.raises(CommandError, match="no d' margin"):
        call_command("report", pair_study.slug, "--d-prime-margin", "0.5", stdout=io.StringIO())
