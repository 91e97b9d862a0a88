"""The `plan_study` command: the participants a study needs, in words, from the power module."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from evaluation.power import Design, participants_for_difference, participants_for_equivalence


def plan(*args: str) -> str:
    out = io.StringIO()
    call_command("plan_study", *args, stdout=out)
    return out.getvalue()


def test_plan_names_the_participants_for_each_verdict():
    text = plan("--human-rate", "0.6", "--model-rate", "0.55", "--models", "3", "--icc", "0.1")
    design = Design(icc=0.1)
    passes = participants_for_equivalence(0.6, 0.55, 0.1, design, models=3).participants
    differs = participants_for_difference(0.6, 0.55, design, models=3).participants
    assert re.search(rf"Passes for human .*: {passes} participants", text)
    assert re.search(rf"Distinguishable from human.*: {differs} participants", text)
    assert "0.05 / 3 = 0.0167" in text


def test_a_model_outside_the_margin_is_not_planned_to_pass():
    text = plan("--human-rate", "0.6", "--model-rate", "0.4")
    assert "outside the margin and should not pass" in text
    assert "Distinguishable from human" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "0"], "models must be at least 1"),
        (["--human-rate", "1.5"], "human_rate"),
        (["--items-per-source", "4", "--item-sd", "0.2"], "add excerpts"),
    ],
)
def test_impossible_plans_say_why(args, message):
    with pytest.raises(CommandError, match=message):
        plan(*args)
