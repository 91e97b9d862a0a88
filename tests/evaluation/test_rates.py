import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation import tidy
from evaluation.rates import (
    difference,
    group_rates,
    overall_accuracy,
    rate_estimate,
    rate_table,
    table_difference,
    wilson,
)
from evaluation.score_intervals import wilson_limits
from evaluation.simulate import StudyDesign, simulate_study


def crossed_data(seed: int, participants=30, items=24, per_participant=12, groups=3):
    rng = np.random.default_rng(seed)
    rows = [
        (p, i, i % groups)
        for p in range(participants)
        for i in rng.choice(items, per_participant, replace=False)
    ]
    data = pd.DataFrame(rows, columns=["p", "i", "g"])
    bias = rng.normal(0, 0.8, participants)[data.p] + rng.normal(0, 0.6, items)[data.i]
    data["y"] = (rng.random(len(data)) < stats.norm.cdf(-0.3 + 0.4 * data.g + bias)).astype(float)
    return data


def statsmodels_clustered(data, *columns):
    """Reference: OLS on group dummies with statsmodels' cluster-robust covariance."""
    dummies = pd.get_dummies(data.g).astype(float).to_numpy()
    groups = np.column_stack([pd.factorize(data[column])[0] for column in columns])
    return sm.OLS(data.y.to_numpy(), dummies).fit(
        cov_type="cluster", cov_kwds={"groups": groups if len(columns) > 1 else groups[:, 0]}
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_participant_part_matches_statsmodels_one_way_cluster(seed):
    data = crossed_data(seed)
    ours = group_rates(data.y, data.g, data.p, data.i)
    ref = statsmodels_clustered(data, "p")
    np.testing.assert_allclose(ours.estimate, ref.params, rtol=1e-12)
    np.testing.assert_allclose(ours.v_participant, ref.cov_params(), rtol=1e-9, atol=1e-15)


def hand_built(table: dict[str, str]) -> pd.DataFrame:
    """Participants x (h1 h2 m1 m2), everyone hearing every excerpt: one judgment per cell."""
    rows = [
        (participant, item, item[0], int(answer))
        for participant, answers in table.items()
        for item, answer in zip(("h1", "h2", "m1", "m2"), answers, strict=True)
    ]
    return pd.DataFrame(rows, columns=["p", "i", "g", "y"])


# Worked by hand (exact fractions). Residuals from each source's mean; a participant's lean is
# their mean residual. V_participant = 4/3 * 15/14 * sum over participants of the squared
# contrast score sums; V_item and V_cell use the residuals less the leans, V_item with 2/1 per
# source (two excerpts each), V_cell with 16/15, both times 15/14.
LEANING = {"A": "1111", "B": "1110", "C": "0100", "D": "0000"}  # diff -1/4
# V_p = 5/224, V_item = 15/448, V_cell = 5/224: the two-way value 15/448 stands.
FLOORED = {"A": "0011", "B": "0011", "C": "0011", "D": "1000"}  # diff +5/8
# V_p = 135/896, V_item = 15/896, V_cell = 5/128: two-way 115/896, floored at V_p.


@pytest.mark.parametrize(
    ("table", "diff", "variance"),
    [(LEANING, -1 / 4, 15 / 448), (FLOORED, 5 / 8, 135 / 896)],
    ids=["two-way stands", "floor binds"],
)
def test_difference_variance_reference_values(table, diff, variance):
    data = hand_built(table)
    rates = group_rates(data.y, data.g, data.p, data.i)
    result = difference(rates, "m", "h")
    assert result.estimate == pytest.approx(diff)
    assert result.se == pytest.approx(np.sqrt(variance), rel=1e-12)
    assert result.df == 3  # four participants, four excerpts
    # The participant part is exactly statsmodels' one-way clustered variance of the contrast.
    ref = statsmodels_clustered(data, "p").t_test(np.array([[-1.0, 1.0]]))
    assert rates.variance(np.array([-1.0, 1.0])) >= float(np.squeeze(ref.sd)) ** 2 - 1e-15


def test_textbook_two_way_variance_collapses_where_ours_does_not():
    # statsmodels' two-way (participant, excerpt) variance of the LEANING difference is negative:
    # every participant hears every excerpt, so each lean is subtracted once per source.
    data = hand_built(LEANING)
    ref = statsmodels_clustered(data, "p", "i")
    contrast = np.array([-1.0, 1.0])
    assert contrast @ ref.cov_params() @ contrast < 0
    rates = group_rates(data.y, data.g, data.p, data.i)
    assert rates.variance(contrast) == pytest.approx(15 / 448)


def test_a_model_against_a_model_takes_the_same_floored_variance():
    data = crossed_data(4)
    rates = group_rates(data.y, data.g.map({0: "human", 1: "a", 2: "b"}), data.p, data.i)
    between = difference(rates, "a", "b")
    weights = np.array([1.0, -1.0, 0.0])  # labels sort as a, b, human
    assert between.se == pytest.approx(np.sqrt(rates.variance(weights)))
    ref = statsmodels_clustered(data, "p").t_test(np.array([[0.0, 1.0, -1.0]]))
    assert between.se >= float(np.squeeze(ref.sd)) - 1e-12
    assert between.estimate == pytest.approx(rates.estimate[0] - rates.estimate[1])


def test_one_judgment_per_item_reduces_to_participant_clustering():
    data = crossed_data(5)
    data["i"] = np.arange(len(data))  # every judgment its own excerpt
    ours = group_rates(data.y, np.zeros(len(data)), data.p, data.i)
    ref = sm.OLS(data.y.to_numpy(), np.ones(len(data))).fit(
        cov_type="cluster", cov_kwds={"groups": data.p.to_numpy()}
    )
    assert np.sqrt(ours.variance(np.ones(1))) == pytest.approx(ref.bse[0], rel=1e-9)


def test_pooled_binomial_interval_is_too_narrow_for_clustered_answers():
    data = crossed_data(6, participants=40, per_participant=20)
    rates = group_rates(data.y, np.zeros(len(data)), data.p, data.i)
    p = rates.estimate[0]
    assert np.sqrt(rates.variance(np.ones(1))) > 1.3 * np.sqrt(p * (1 - p) / len(data))


def test_all_answers_alike_get_a_wilson_interval_not_a_point():
    data = crossed_data(7)
    data["y"] = 1.0
    rates = group_rates(data.y, data.g, data.p, data.i)
    est = rate_estimate(rates, rates.labels[0])
    assert est.estimate == 1.0
    assert est.ci_high == 1.0
    assert 0.5 < est.ci_low < 1.0


def test_a_source_with_one_excerpt_leaves_the_others_their_intervals():
    data = crossed_data(8)
    data.loc[data.g == 2, "i"] = 999  # the third source's answers all about one excerpt
    data = data.drop_duplicates(["p", "i"])
    rates = group_rates(data.y, data.g.map({0: "human", 1: "a", 2: "b"}), data.p, data.i)
    assert np.isnan(rate_estimate(rates, "b").ci_low)
    assert np.isfinite(rate_estimate(rates, "human").ci_low)
    assert np.isfinite(difference(rates, "a", "human").p_value)


def test_groups_where_everyone_answered_alike_count_their_judgments_not_a_certainty():
    # Everybody took every excerpt of both sources for a person's: the sandwich is zero up to
    # rounding, which would make any difference (and any equivalence) look certain. Each group
    # counts its judgments instead, with its clusters' degrees of freedom.
    data = crossed_data(9, groups=2)
    data["y"] = 1.0
    rates = group_rates(data.y, data.g.map({0: "human", 1: "a"}), data.p, data.i)
    diff = difference(rates, "a", "human")
    assert diff.estimate == 0 and diff.ci_low < 0 < diff.ci_high
    table = rate_table(
        pd.DataFrame(
            {
                tidy.SOURCE: data.g.map({0: "human", 1: "a"}),
                tidy.JUDGED_HUMAN: data.y,
                tidy.PARTICIPANT: data.p,
                tidy.ITEM: data.i,
            }
        )
    )
    restated = table_difference(table, "a", "human")  # as the report restates it, Holm-levelled
    assert restated.interval(0.9) == pytest.approx(diff.score.interval(0.9))
    human = rate_estimate(rates, "human")
    q = stats.t.ppf(0.975, human.df)
    judgments = rates.n_judgments[rates.index("human")]
    assert (human.ci_low, human.ci_high) == pytest.approx(wilson_limits(1.0, judgments, q))
    assert human.ci_low < 1.0 and human.p_value < 0.05


def test_nobody_dissenting_is_never_less_certain_than_one_dissent():
    # Found in review: 240 of 240 got [0.59, 1] (the smaller cluster count as its sample) while
    # 239 of 240 got [0.97, 1.00].
    data = crossed_data(4, participants=30, items=8, per_participant=8, groups=1)
    data["y"] = 1.0
    estimates = []
    for dissent in (0, 1, 2):
        answers = data.y.copy()
        answers.iloc[:dissent] = 0.0
        rates = group_rates(answers, data.g, data.p, data.i)
        estimates.append(rate_estimate(rates, rates.labels[0]))
    lows = [estimate.ci_low for estimate in estimates]
    assert lows == sorted(lows, reverse=True)
    assert [e.p_value for e in estimates] == sorted(e.p_value for e in estimates)


def test_an_all_alike_rate_gets_its_wilson_interval_whatever_other_sources_answered():
    # Twelve people hear 5 of 20 excerpts; all say "a person" to the human ones. Their leans,
    # taken from their other answers, must not lend the human rate a spread it does not have.
    data = crossed_data(10, participants=12, items=20, per_participant=5, groups=2)
    data.loc[data.g == 0, "y"] = 1.0
    rates = group_rates(data.y, data.g, data.p, data.i)
    human = rate_estimate(rates, rates.labels[0])
    q = stats.t.ppf(0.975, human.df)
    assert (human.ci_low, human.ci_high) == pytest.approx(
        wilson_limits(1.0, rates.n_judgments[0], q)
    )


@st.composite
def small_tables(draw):
    n = draw(st.integers(4, 60))
    participants = draw(st.lists(st.integers(0, 7), min_size=n, max_size=n))
    items = draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    answers = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame({"p": participants, "i": items, "y": answers}).drop_duplicates(["p", "i"])


@settings(max_examples=60, deadline=None)
@given(small_tables(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_is_ordered_and_inside_unit_interval(data, level):
    rates = group_rates(data.y, np.zeros(len(data)), data.p, data.i)
    est = rate_estimate(rates, rates.labels[0], level=level)
    assert not rates.variance(np.ones(1)) < 0  # NaN allowed: a single judgment
    if np.isfinite(est.ci_low):
        assert 0.0 <= est.ci_low <= est.estimate + 1e-12
        assert est.estimate - 1e-12 <= est.ci_high <= 1.0
    if est.df < 1:
        assert np.isnan(est.ci_low) and np.isnan(est.p_value)


@settings(max_examples=40, deadline=None)
@given(small_tables(), st.randoms(use_true_random=False))
def test_estimate_ignores_row_order_and_labels(data, random):
    order = list(range(len(data)))
    random.shuffle(order)
    shuffled = data.iloc[order]
    relabelled_p = shuffled.p.map(lambda p: f"participant-{p * 7 + 3}")
    relabelled_i = shuffled.i.map(lambda i: f"stimulus-{i}x")
    a = group_rates(data.y, np.zeros(len(data)), data.p, data.i)
    b = group_rates(shuffled.y, np.zeros(len(data)), relabelled_p, relabelled_i)
    assert a.estimate[0] == pytest.approx(b.estimate[0])
    assert a.variance(np.ones(1)) == pytest.approx(
        b.variance(np.ones(1)), rel=1e-9, abs=1e-15, nan_ok=True
    )


def test_interval_covers_the_truth_in_a_crossed_design():
    """Coverage of the 95% interval over simulated studies with participant and item effects."""
    design = StudyDesign(
        model_d_primes={"model": 0.8},
        participants=40,
        trials_per_source=10,
        items_per_source=20,
        threshold_sd=0.6,
        item_sd=0.5,
    )
    truth = design.true_rate_human(0.8)
    covered = naive_covered = 0
    reps = 150
    for seed in range(reps):
        frame, _ = simulate_study(design, seed=seed)
        model = frame[frame[tidy.SOURCE] == "model"]
        rates = group_rates(
            model[tidy.JUDGED_HUMAN], model[tidy.SOURCE], model.participant, model.item
        )
        est = rate_estimate(rates, "model")
        covered += est.ci_low <= truth <= est.ci_high
        p, n = est.estimate, len(model)
        half = 1.96 * np.sqrt(p * (1 - p) / n)
        naive_covered += p - half <= truth <= p + half
    assert covered / reps >= 0.88
    assert naive_covered / reps < covered / reps - 0.1


def test_rate_table_columns_and_baseline(small_study):
    frame = tidy.analysed(tidy.validate(small_study[0]))
    table = rate_table(frame)
    assert set(table.index) == {"human", "seq2seq", "lstm"}
    assert np.isnan(table.loc["human", "diff_vs_baseline"])
    assert table.loc["lstm", "diff_vs_baseline"] == pytest.approx(
        table.loc["lstm", "rate_human"] - table.loc["human", "rate_human"]
    )
    assert table["judgments"].sum() == len(frame)
    assert (table["items"] == 16).all()


def test_overall_accuracy_is_share_correct(small_study):
    frame = tidy.analysed(tidy.validate(small_study[0]))
    acc = overall_accuracy(frame)
    assert acc.estimate == pytest.approx(frame[tidy.CORRECT].mean())
    assert acc.ci_low < acc.estimate < acc.ci_high


def test_no_judgments_is_an_error():
    with pytest.raises(ValueError, match="no judgments"):
        group_rates(np.array([]), np.array([]), np.array([]), np.array([]))


@given(n=st.integers(1, 500), share=st.floats(0, 1))
def test_a_wilson_interval_always_contains_the_observed_rate(n, share):
    successes = round(share * n)
    low, high = wilson(successes, n)
    assert 0.0 <= low <= successes / n <= high <= 1.0
