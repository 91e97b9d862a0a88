"""Exclusion rules as data and the Gold-MSI musical-training score."""

import pytest

from surveys.exclusion import (
    DEFAULT_RULES,
    ParticipantFacts,
    exclusion_reason,
    is_non_musician,
    rules_in_words,
    unmet_rules,
    validate_rules,
)
from surveys.questionnaire import ITEMS, item_score, training_score

KEPT = ParticipantFacts(
    completed=True,
    headphone_correct=6,
    attention_failed=0,
    musical_training_years=1,
    median_response_ms=1500,
)


def test_defaults_fill_in_and_garbage_is_named():
    assert validate_rules({})["headphone_min_correct"] == 5
    with pytest.raises(ValueError, match="unknown rule"):
        validate_rules({"drop_the_worst": True})
    with pytest.raises(ValueError, match="headphone_min_correct"):
        validate_rules({"headphone_min_correct": -1})
    with pytest.raises(ValueError, match="require_completed"):
        validate_rules({"require_completed": "yes"})


@pytest.mark.parametrize(
    ("change", "rules", "reason"),
    [
        ({}, {}, ""),
        ({"completed": False}, {}, "did not complete"),
        ({"headphone_correct": 4}, {}, "failed headphone check"),
        ({"attention_failed": 1}, {}, "failed attention checks"),
        ({"attention_failed": 1}, {"attention_max_failed": 1}, ""),
        ({"musical_training_years": 10}, {"exclude_musicians": True}, "musician"),
        ({"median_response_ms": 100}, {"min_median_response_ms": 300}, "answered too fast"),
    ],
)
def test_exclusion_reasons(change, rules, reason):
    facts = ParticipantFacts(**{**KEPT.__dict__, **change})
    assert exclusion_reason(rules, facts) == reason


def test_non_musician_threshold():
    assert is_non_musician({}, 2) is True
    assert is_non_musician({}, 2.5) is False
    assert is_non_musician({}, None) is None


def test_gold_msi_training_score_reverses_the_agreement_items():
    lowest = {item.key: 0 for item in ITEMS}
    lowest["mt1"] = lowest["mt2"] = 6  # "completely agree" with "I would not consider myself..."
    assert training_score(lowest) == 7.0
    highest = {item.key: 6 for item in ITEMS}
    highest["mt1"] = highest["mt2"] = 0
    assert training_score(highest) == 49.0
    assert item_score(ITEMS[0], 0) == 7
    with pytest.raises(ValueError, match="unanswered"):
        training_score({"mt1": 3})
    with pytest.raises(ValueError, match="choice 7"):
        item_score(ITEMS[2], 7)


@pytest.mark.parametrize("points", [0, 50, 2.5])
def test_the_equivalence_margin_must_be_whole_points_below_half(points):
    with pytest.raises(ValueError, match="equivalence_margin_points"):
        validate_rules({"equivalence_margin_points": points})


def test_the_d_prime_margin_defaults_to_a_third_of_a_unit_and_takes_decimals():
    assert validate_rules({})["equivalence_margin_d_prime"] == 0.3
    assert validate_rules({"equivalence_margin_d_prime": 0.5})["equivalence_margin_d_prime"] == 0.5
    assert validate_rules({"equivalence_margin_d_prime": 1})["equivalence_margin_d_prime"] == 1


@pytest.mark.parametrize("margin", [0, 0.01, 2.5, -0.3, float("nan"), "0.3", True, None])
def test_a_d_prime_margin_outside_reason_is_refused_by_name(margin):
    with pytest.raises(ValueError, match="equivalence_margin_d_prime"):
        validate_rules({"equivalence_margin_d_prime": margin})


def test_rules_a_study_can_meet_pass():
    assert unmet_rules({"headphone_min_correct": 3}, headphone_trials=3, attention_checks=1) == []
    assert unmet_rules({"headphone_min_correct": 0}, headphone_trials=0, attention_checks=0) == []


@pytest.mark.parametrize(
    ("rules", "headphone_trials", "attention_checks", "words"),
    [
        (
            {"headphone_min_correct": 5},
            3,
            1,
            "need 5 headphone trials answered correctly, but the "
            "study has 3: set headphone_min_correct to 3 or less",
        ),
        ({"headphone_min_correct": 1}, 0, 1, "but the study has none"),
        (
            {"attention_max_failed": 1},
            6,
            0,
            "allow 1 failed attention checks, but the study has none",
        ),
        ({"non_musician_max_years": 90}, 6, 1, "questionnaire accepts at most 90 years"),
    ],
)
def test_rules_a_study_cannot_meet_are_named_in_plain_words(
    rules, headphone_trials, attention_checks, words
):
    rules = {"headphone_min_correct": 0, **rules}
    problems = unmet_rules(rules, headphone_trials, attention_checks)
    assert len(problems) == 1 and words in problems[0]


def test_the_rules_in_words_say_what_a_methods_section_would():
    single = rules_in_words(DEFAULT_RULES, attention_checks=2, pair=False)
    assert "Participants who got fewer than 5 sound-check trials right were excluded." in single
    assert "Participants who failed an attention check were excluded." in single
    assert any("±10 percentage points of the human excerpts'" in line for line in single)
    assert any("d' is shown within ±0.3" in line for line in single)
    assert not any("answer came in under" in line for line in single)

    strict = {"exclude_musicians": True, "min_median_response_ms": 800, "attention_max_failed": 1}
    pair = rules_in_words(strict | {"non_musician_max_years": 1}, attention_checks=0, pair=True)
    assert "Only non-musicians (up to 1 year of musical training) were analysed." in pair
    assert not any("attention" in line for line in pair)  # the study has no checks to fail
    assert "Participants whose median answer came in under 800 ms were excluded." in pair
    assert any("of 50%" in line for line in pair) and not any("d'" in line for line in pair)
