"""Pre-registered rules: a plain dict, checked when a study opens and frozen there.

Besides who is excluded, the rules fix the analysis's free choices, the equivalence margins: how
close to the human rate a model's rate judged human must be shown to be to "pass for human"
(percentage points), and how close to 0 its d' must be shown to be for "listeners cannot tell"
(d' units); in the pair design, how close to 50% the proportion of pairs answered right must be
shown to be for "indistinguishable" (percentage points). They too are decided before any answer
arrives.

The rules are data so a study can store the exact copy in force, and the decision is a pure
function of that copy and a participant's facts, so it can be recomputed and tested anywhere.
"""

from dataclasses import dataclass

from surveys.questionnaire import MAX_TRAINING_YEARS

DEFAULT_RULES: dict = {
    "require_completed": True,
    "headphone_min_correct": 5,
    "attention_max_failed": 0,
    "non_musician_max_years": 2,
    "exclude_musicians": False,
    "min_median_response_ms": 0,
    "equivalence_margin_points": 10,
    "equivalence_margin_d_prime": 0.3,
    "equivalence_margin_pair_points": 10,
}

# A d' margin below 0.05 needs thousands of participants; above 2 any audible difference passes.
D_PRIME_MARGIN_RANGE = (0.05, 2.0)

_BOOLS = ("require_completed", "exclude_musicians")
_COUNTS = (
    "headphone_min_correct",
    "attention_max_failed",
    "non_musician_max_years",
    "min_median_response_ms",
    "equivalence_margin_points",
    "equivalence_margin_pair_points",
)


def validate_rules(rules: dict) -> dict:
    """Return the rules with every known key present; raise ValueError naming the bad key."""
    if not isinstance(rules, dict):
        raise ValueError("the rules must be a JSON object")
    unknown = sorted(set(rules) - set(DEFAULT_RULES))
    if unknown:
        raise ValueError(f"unknown rule(s) {unknown}; known: {sorted(DEFAULT_RULES)}")
    merged = {**DEFAULT_RULES, **rules}
    for key in _BOOLS:
        if not isinstance(merged[key], bool):
            raise ValueError(f"{key} must be true or false, not {merged[key]!r}")
    for key in _COUNTS:
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key} must be a whole number >= 0, not {value!r}")
    for key in ("equivalence_margin_points", "equivalence_margin_pair_points"):
        if not 1 <= merged[key] <= 49:
            raise ValueError(f"{key} must lie between 1 and 49 percentage points")
    d_margin = merged["equivalence_margin_d_prime"]
    if isinstance(d_margin, bool) or not isinstance(d_margin, int | float):
        raise ValueError(f"equivalence_margin_d_prime must be a number, not {d_margin!r}")
    if not D_PRIME_MARGIN_RANGE[0] <= d_margin <= D_PRIME_MARGIN_RANGE[1]:
        raise ValueError(
            "equivalence_margin_d_prime must lie between "
            f"{D_PRIME_MARGIN_RANGE[0]} and {D_PRIME_MARGIN_RANGE[1]} (d' units), not {d_margin}"
        )
    return merged


def unmet_rules(rules: dict, headphone_trials: int, attention_checks: int) -> list[str]:
    """Why these rules cannot work in a study with this many headphone trials and attention
    checks, one plain sentence per rule; [] when every participant could meet them.

    Rules are checked against the study they belong to, not only against themselves: a study
    with 3 headphone trials whose rules need 5 correct would exclude everyone who takes it.
    """
    rules = validate_rules(rules)
    found = []
    needed = rules["headphone_min_correct"]
    if needed > headphone_trials:
        has = f"has {headphone_trials}" if headphone_trials else "has none"
        found.append(
            f"The rules need {needed} headphone trials answered correctly, but the study {has}: "
            f"set headphone_min_correct to {headphone_trials} or less, or add headphone trials."
        )
    allowed = rules["attention_max_failed"]
    if allowed and not attention_checks:
        found.append(
            f"The rules allow {allowed} failed attention checks, but the study has none: "
            "set attention_max_failed to 0, or add attention checks."
        )
    cut = rules["non_musician_max_years"]
    if cut >= MAX_TRAINING_YEARS:
        found.append(
            f"The rules count up to {cut} years of musical training as a non-musician, but the "
            f"questionnaire accepts at most {MAX_TRAINING_YEARS:g} years, so every answer would "
            f"be a non-musician: set non_musician_max_years below {MAX_TRAINING_YEARS:g}."
        )
    return found


def rules_in_words(rules: dict, attention_checks: int, pair: bool) -> list[str]:
    """The rules as a methods section states them: whom the analysis leaves out, who counts as a
    non-musician, and the margins the verdicts were decided at."""
    rules = validate_rules(rules)
    words = []
    if rules["require_completed"]:
        words.append("Only participants who completed the study were analysed.")
    if rules["headphone_min_correct"]:
        words.append(
            f"Participants who got fewer than {rules['headphone_min_correct']} sound-check "
            "trials right were excluded."
        )
    if attention_checks:
        allowed = rules["attention_max_failed"]
        words.append(
            "Participants who failed an attention check were excluded."
            if not allowed
            else f"Participants who failed more than {allowed} attention checks were excluded."
        )
    years = rules["non_musician_max_years"]
    non_musicians = f"up to {years} year{'s' if years != 1 else ''} of musical training"
    if rules["exclude_musicians"]:
        words.append(f"Only non-musicians ({non_musicians}) were analysed.")
    else:
        words.append(f"Non-musicians ({non_musicians}) are also analysed on their own.")
    if rules["min_median_response_ms"]:
        words.append(
            f"Participants whose median answer came in under {rules['min_median_response_ms']} "
            "ms were excluded."
        )
    if pair:
        words.append(
            "A model is indistinguishable from a person when the proportion of pairs answered "
            f"right is shown within ±{rules['equivalence_margin_pair_points']} percentage points "
            "of 50%."
        )
    else:
        words.append(
            "A model passes for human when its rate judged human is shown within "
            f"±{rules['equivalence_margin_points']} percentage points of the human excerpts'; "
            f"listeners cannot tell when d' is shown within "
            f"±{rules['equivalence_margin_d_prime']:g}."
        )
    return words


@dataclass(frozen=True)
class ParticipantFacts:
    """What the rules look at; None means the participant never got that far."""

    completed: bool
    headphone_correct: int | None
    attention_failed: int | None
    musical_training_years: float | None
    median_response_ms: float | None


def is_non_musician(rules: dict, musical_training_years: float | None) -> bool | None:
    if musical_training_years is None:
        return None
    return musical_training_years <= validate_rules(rules)["non_musician_max_years"]


def exclusion_reason(rules: dict, facts: ParticipantFacts) -> str:
    """The first rule this participant breaks, in words for the report; "" when kept."""
    rules = validate_rules(rules)
    if rules["require_completed"] and not facts.completed:
        return "did not complete"
    if facts.headphone_correct is None or facts.headphone_correct < rules["headphone_min_correct"]:
        return "failed headphone check"
    if facts.attention_failed is None or facts.attention_failed > rules["attention_max_failed"]:
        return "failed attention checks"
    if rules["exclude_musicians"] and not is_non_musician(rules, facts.musical_training_years):
        return "musician"
    if rules["min_median_response_ms"] and (
        facts.median_response_ms is None
        or facts.median_response_ms < rules["min_median_response_ms"]
    ):
        return "answered too fast"
    return ""
