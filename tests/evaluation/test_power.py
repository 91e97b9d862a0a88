import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from evaluation.power import (
    Design,
    difference_power,
    participants_for_difference,
    participants_for_equivalence,
    score_reach,
    tost_power,
)
from evaluation.rates import difference_contrast, group_rates


def test_one_trial_each_matches_the_textbook_two_proportion_formula():
    # m = 1, no clustering, excerpts without end: the classic n per group for two independent
    # proportions, which statsmodels gives (normal) for the standardised effect
    # (p1 - p0) / sqrt((p1 q1 + p0 q0) / 2); the t on n - 1 degrees of freedom and the report's
    # score interval, a little wider than the Wald one the formula assumes, add a hair.
    p0, p1 = 0.5, 0.4
    effect = (p0 - p1) / np.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / 2)
    ref = NormalIndPower().solve_power(effect_size=effect, alpha=0.05, power=0.8, ratio=1.0)
    design = Design(trials_per_source=1, icc=0.0, items_per_source=10**6)
    result = participants_for_difference(p0, p1, design)
    assert int(np.ceil(ref)) <= result.participants <= 1.02 * int(np.ceil(ref))
    assert result.design_effect == 1


def test_few_excerpts_plan_on_the_reports_t_not_the_normal():
    # 8 excerpts a source: the report tests a difference on 15 degrees of freedom.
    se, diff, alpha = 0.04, 0.1, 0.05
    q = stats.t.ppf(0.975, 15)
    expected = stats.t.cdf(diff / se - q, 15) + stats.t.cdf(-diff / se - q, 15)
    assert difference_power(se, diff, alpha, df=15) == pytest.approx(expected)
    assert difference_power(se, diff, alpha, df=15) < difference_power(se, diff, alpha)
    few = Design(trials_per_source=8, icc=0.05, items_per_source=8, item_sd=0.02)
    n = participants_for_equivalence(0.6, margin=0.1, design=few).participants

    def se(k: int) -> float:
        return np.sqrt(2 * few.variance(0.6, k))

    assert tost_power(se(n), 0.0, 0.1, 0.05, df=15) >= 0.8
    on_the_normal = next(k for k in range(2, n + 1) if tost_power(se(k), 0.0, 0.1, 0.05) >= 0.8)
    assert on_the_normal < n  # the normal would have promised 0.80 with too few people


def test_more_trials_need_fewer_participants_but_clustering_costs():
    base = participants_for_difference(0.5, 0.4, Design(trials_per_source=1, icc=0.0))
    many = participants_for_difference(0.5, 0.4, Design(trials_per_source=10, icc=0.0))
    clustered = participants_for_difference(0.5, 0.4, Design(trials_per_source=10, icc=0.2))
    assert many.participants == pytest.approx(base.participants / 10, abs=1)
    assert clustered.participants > many.participants
    assert clustered.design_effect == pytest.approx(2.8)


def test_result_is_the_smallest_n_reaching_the_power():
    design = Design(trials_per_source=12, icc=0.1, items_per_source=30, item_sd=0.05)
    result = participants_for_equivalence(0.55, 0.57, margin=0.1, design=design)
    assert result.power >= 0.8

    def power_at(n):
        se = np.sqrt(design.variance(0.55, n) + design.variance(0.57, n))
        return tost_power(se, 0.02, 0.1, 0.05, design.df(n), score_reach(design, 0.57, 0.55, n))

    assert power_at(result.participants - 1) < 0.8 <= power_at(result.participants)


def test_tost_power_by_hand():
    se, margin, z = 0.03, 0.1, stats.norm.ppf(0.95)
    expected = stats.norm.cdf(margin / se - z) - stats.norm.cdf(-margin / se + z)
    assert tost_power(se, 0.0, margin, 0.05) == pytest.approx(expected)


def test_too_few_excerpts_cannot_be_rescued_by_participants():
    design = Design(trials_per_source=10, icc=0.05, items_per_source=4, item_sd=0.15)
    with pytest.raises(ValueError, match="add excerpts"):
        participants_for_equivalence(0.5, margin=0.1, design=design)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"human_rate": 0.5, "model_rate": 0.5}, "no difference"),
        ({"human_rate": 1.2, "model_rate": 0.5}, "human_rate"),
        ({"human_rate": 0.5, "model_rate": 0.4, "power": 1.0}, "power"),
    ],
)
def test_bad_inputs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        participants_for_difference(**kwargs)


def test_equivalence_needs_a_true_difference_inside_the_margin():
    with pytest.raises(ValueError, match="margin"):
        participants_for_equivalence(0.5, 0.65, margin=0.1)


def simulate_power(n, m, icc, p_human, p_model, test, rng, reps=400):
    """Share of simulated studies whose participant-clustered test succeeds."""
    ab = 1 / icc - 1
    hits = 0
    for _ in range(reps):
        ph = rng.beta(p_human * ab, (1 - p_human) * ab, n)
        pm = rng.beta(p_model * ab, (1 - p_model) * ab, n)
        per_participant = rng.binomial(m, pm) / m - rng.binomial(m, ph) / m
        diff = per_participant.mean()
        se = per_participant.std(ddof=1) / np.sqrt(n)
        hits += test(diff, se)
    return hits / reps


def test_simulated_clustered_studies_reach_the_promised_power():
    rng = np.random.default_rng(0)
    design = Design(trials_per_source=10, icc=0.15, items_per_source=1000, item_sd=0.0)
    z2, z1 = stats.norm.ppf(0.975), stats.norm.ppf(0.95)

    diff_n = participants_for_difference(0.6, 0.45, design).participants
    power = simulate_power(diff_n, 10, 0.15, 0.6, 0.45, lambda d, s: abs(d / s) > z2, rng)
    assert 0.72 <= power <= 0.9

    equiv_n = participants_for_equivalence(0.6, margin=0.1, design=design).participants
    power = simulate_power(
        equiv_n, 10, 0.15, 0.6, 0.6, lambda d, s: (d + 0.1) / s > z1 and (d - 0.1) / s < -z1, rng
    )
    assert 0.72 <= power <= 0.9


def simulate_score_tost(n, m, icc, rate, margin, rng, reps=300):
    """Share of simulated studies (participants' rates spread by ``icc``, every trial its own
    excerpt, both sources at ``rate``) in which the report's own TOST passes."""
    ab = 1 / icc - 1
    sources = np.repeat(["human", "model"], n * m)
    participant = np.tile(np.repeat(np.arange(n), m), 2)
    passed = 0
    for _ in range(reps):
        own = rng.beta(rate * ab, (1 - rate) * ab, 2 * n)
        judged = rng.random((2 * n, m)) < own[:, None]
        rates = group_rates(judged.ravel(), sources, participant, np.arange(judged.size))
        contrast = difference_contrast(rates, "model", "human")
        passed += contrast.tost(-margin, margin, 0.05).equivalent
    return passed / reps


def test_a_plan_near_one_reaches_its_power_on_the_reports_score_test():
    # Human excerpts judged human 95% of the time, a 5-point margin: the plan on the symmetric
    # interval took 49 participants, with whom the report's test passed 75% of 400 studies.
    design = Design(trials_per_source=10, icc=0.05, items_per_source=10**5)
    plan = participants_for_equivalence(0.95, margin=0.05, design=design)
    power = simulate_score_tost(plan.participants, 10, 0.05, 0.95, 0.05, np.random.default_rng(2))
    assert power >= 0.77, (plan, power)


def test_several_models_plan_at_holms_strictest_step():
    one = participants_for_equivalence(0.6, margin=0.1)
    three = participants_for_equivalence(0.6, margin=0.1, models=3)
    assert three == participants_for_equivalence(0.6, margin=0.1, alpha=0.05 / 3)
    assert three.participants > one.participants
    assert participants_for_difference(0.6, 0.45, models=2) == participants_for_difference(
        0.6, 0.45, alpha=0.025
    )


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"models": 0}, "models"), ({"alpha": 0.7}, "alpha")]
)
def test_bad_plans_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        participants_for_equivalence(0.6, margin=0.1, **kwargs)
