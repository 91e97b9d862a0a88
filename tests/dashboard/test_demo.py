"""`manage.py demo --quick --no-serve` builds an open study from nothing; a rerun reuses it."""

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from generation.models import GenerationBatch, TrainingRun
from generation.models.runs import Status
from surveys.exclusion import unmet_rules
from surveys.models import Stimulus, Study
from tests.surveys.helpers import participant_of, take_study

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_the_demo_sets_up_an_open_study_with_human_and_machine_excerpts(capsys, settings):
    call_command("demo", "--quick", "--no-serve", "--password", "demo-password-1")
    out = capsys.readouterr().out
    assert "SCALED DOWN" in out
    assert "Participant link: http://127.0.0.1:8000/s/demo/" in out
    assert "Login:            researcher / demo-password-1" in out
    runs = TrainingRun.objects.all()
    assert sorted(runs.values_list("model_kind", flat=True)) == [
        "roll_lstm",
        "seq2seq",
        "token_lstm",
    ]
    assert all(run.status == Status.SUCCEEDED for run in runs)
    assert GenerationBatch.objects.filter(status=Status.SUCCEEDED).count() == 3
    study = Study.objects.get(slug="demo")
    assert study.state == Study.State.OPEN
    kinds = set(study.stimuli.values_list("source_kind", flat=True))
    assert kinds == {Stimulus.SourceKind.HUMAN, Stimulus.SourceKind.MACHINE}
    human_splits = set(
        study.stimuli.filter(source_kind=Stimulus.SourceKind.HUMAN).values_list(
            "piece__split", flat=True
        )
    )
    assert human_splits == {"test"}
    n_human = study.stimuli.filter(source_kind=Stimulus.SourceKind.HUMAN).count()
    assert ("held-out chorale(s) in the test split" in out) == (n_human < 2)
    assert User.objects.get(username="researcher").check_password("demo-password-1")
    # Its rules are ones its own trials can meet: answering every sound check right passes.
    assert unmet_rules(study.rules, study.headphone_trials, study.attention_checks) == []
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 60_000  # the walk answers without playing the sounds
    client = Client()
    take_study(client, study.slug)
    participant = participant_of(client, study.slug)
    assert participant.headphone_passed and participant.headphone_correct == 3
    assert participant.exclusion_reason != "failed headphone check"

    call_command("demo", "--quick", "--no-serve", "--password", "demo-password-2")
    again = capsys.readouterr().out
    assert again.count("reusing it") == 7  # three runs, three batches, the study
    assert TrainingRun.objects.count() == 3 and GenerationBatch.objects.count() == 3


def test_the_demo_refuses_too_few_chorales():
    with pytest.raises(CommandError, match="at least 8"):
        call_command("demo", "--quick", "--no-serve", "--chorales", "3")
