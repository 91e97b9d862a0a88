import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation import tidy
from evaluation.detection import (
    ALL_MACHINES,
    corrected_rate,
    criterion,
    d_prime,
    group_sdt,
    participant_sdt,
    sdt_table,
)
from evaluation.multiple import holm_levels
from evaluation.simulate import StudyDesign, simulate_study
from evaluation.summary import build_report


def test_textbook_values():
    # z(0.8413447) = 1 and z(0.1586553) = -1, so d' = 2 and c = 0.
    assert d_prime(0.8413447461, 0.1586552539) == pytest.approx(2.0, abs=1e-8)
    assert criterion(0.8413447461, 0.1586552539) == pytest.approx(0.0, abs=1e-8)
    # From printed normal tables: z(.9) = 1.2816, z(.2) = -0.8416, so d' = 2.1232.
    assert d_prime(0.9, 0.2) == pytest.approx(2.1232, abs=1e-4)
    assert criterion(0.9, 0.2) == pytest.approx(-(1.2816 - 0.8416) / 2, abs=1e-4)


def test_log_linear_correction_by_hand():
    # 10 of 10 machine excerpts caught, 0 of 10 human excerpts called machine.
    h = corrected_rate(10, 10)
    f = corrected_rate(0, 10)
    assert h == pytest.approx(10.5 / 11) and f == pytest.approx(0.5 / 11)
    expected = stats.norm.ppf(10.5 / 11) - stats.norm.ppf(0.5 / 11)
    assert d_prime(h, f) == pytest.approx(expected)


def tiny_table(rows):
    frame = pd.DataFrame(rows, columns=["participant", "source", "judged_human"])
    frame[tidy.SOURCE_KIND] = np.where(frame.source == tidy.HUMAN, tidy.HUMAN, tidy.MACHINE)
    return frame


def test_participant_counts_follow_the_machine_is_signal_convention():
    rows = [
        ("a", "lstm", False),  # hit
        ("a", "lstm", True),  # miss
        ("a", "lstm", False),  # hit
        ("a", "human", False),  # false alarm
        ("a", "human", True),  # correct rejection
        ("b", "lstm", True),  # b heard no human excerpt: no d'
    ]
    per = participant_sdt(tiny_table(rows))
    assert list(per.index) == ["a"]
    row = per.loc["a"]
    assert (row.signal_trials, row.hits, row.noise_trials, row.false_alarms) == (3, 2, 2, 1)
    assert row.hit_rate == pytest.approx(2.5 / 4)
    assert row.fa_rate == pytest.approx(1.5 / 3)
    assert row.d_prime == pytest.approx(stats.norm.ppf(2.5 / 4) - stats.norm.ppf(0.5))


counts = st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=200, deadline=None)
@given(counts, counts)
def test_d_prime_properties(signal, noise):
    (hits, n_signal), (fas, n_noise) = signal, noise
    h, f = corrected_rate(hits, n_signal), corrected_rate(fas, n_noise)
    assert 0 < h < 1 and 0 < f < 1
    d, c = d_prime(h, f), criterion(h, f)
    assert np.isfinite(d) and np.isfinite(c)
    # Swapping the roles of the two sources flips d' and keeps the bias.
    assert d_prime(f, h) == pytest.approx(-d)
    assert criterion(1 - f, 1 - h) == pytest.approx(-c)
    # One more hit never lowers d'.
    if hits < n_signal:
        assert d_prime(corrected_rate(hits + 1, n_signal), f) > d
    # Equal corrected rates: no sensitivity.
    assert (abs(d) < 1e-12) == (abs(h - f) < 1e-12)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_simulated_participants_with_known_d_prime_are_recovered(seed):
    design = StudyDesign(
        model_d_primes={"weak": 0.0, "strong": 1.0},
        participants=150,
        trials_per_source=40,
        items_per_source=40,
        threshold=0.5,
        threshold_sd=0.3,
        participant_d_sd=0.2,
    )
    frame, _ = simulate_study(design, seed=seed)
    table = sdt_table(tidy.validate(frame))
    for source, truth in design.model_d_primes.items():
        row = table.loc[source]
        assert row.d_prime_ci_low <= truth <= row.d_prime_ci_high, (source, row)
    # c = k - d'/2: 0.5 for the model people cannot detect, 0 for the other.
    assert table.loc["weak", "criterion_ci_low"] < 0.5 < table.loc["weak", "criterion_ci_high"]
    assert table.loc["strong", "criterion_ci_low"] < 0.0 < table.loc["strong", "criterion_ci_high"]
    assert table.loc["strong", "p_d_prime_vs_0"] < 1e-6


def test_participant_part_is_the_one_way_t_variance():
    design = StudyDesign(participants=30, trials_per_source=10, items_per_source=20, item_sd=0.4)
    frame, _ = simulate_study(design, seed=5)
    group = group_sdt(frame, "seq2seq")
    per = participant_sdt(frame, "seq2seq")
    assert group.participants == len(per) == 30
    assert group.d_prime.estimate == pytest.approx(per["d_prime"].mean())
    assert group.criterion.estimate == pytest.approx(per["criterion"].mean())
    assert np.sqrt(group.d_prime.participant_var) == pytest.approx(stats.sem(per["d_prime"]))
    assert group.d_prime.item_var > 0
    assert group.d_prime.se > np.sqrt(group.d_prime.participant_var)
    assert (group.signal_items, group.noise_items, group.df) == (20, 20, 19)


ITEM_VARIATION = StudyDesign(
    model_d_primes={"detectable": 1.0, "fooler": 0.0},
    participants=40,
    trials_per_source=16,
    items_per_source=24,
    threshold_sd=0.3,
    participant_d_sd=0.3,
    item_sd=0.5,
)


def coverage(design: StudyDesign, studies: int) -> dict[str, np.ndarray]:
    """Share of studies whose 95% interval holds the truth: [d' one-way, d' two-way, c, c]."""
    hits = {source: np.zeros(4) for source in design.model_d_primes}
    for seed in range(studies):
        frame, _ = simulate_study(design, seed=seed)
        for source, d in design.model_d_primes.items():
            group = group_sdt(frame, source)
            truths = (design.true_d_prime(d), design.true_criterion(d))
            for k, (mean, truth) in enumerate(
                zip((group.d_prime, group.criterion), truths, strict=True)
            ):
                error = abs(mean.estimate - truth)
                one_way = stats.t.ppf(0.975, group.participants - 1) * np.sqrt(mean.participant_var)
                hits[source][2 * k] += error <= one_way
                hits[source][2 * k + 1] += error <= stats.t.ppf(0.975, group.df) * mean.se
    return {source: count / studies for source, count in hits.items()}


def test_two_way_intervals_cover_the_true_d_prime_when_excerpts_vary():
    # Measured: d' one-way 0.71-0.735, two-way 0.965-0.975;
    # c one-way 0.825-0.85, two-way 0.95-0.965.
    for source, (d_old, d_new, c_old, c_new) in coverage(ITEM_VARIATION, 200).items():
        assert 0.9 <= d_new <= 0.99, (source, d_new)
        assert 0.88 <= c_new <= 0.99, (source, c_new)
        assert d_old <= 0.82 and d_old <= d_new - 0.1, (source, d_old)
        assert c_old <= 0.9 and c_old <= c_new - 0.04, (source, c_old)


def test_two_way_intervals_stay_near_nominal_when_excerpts_do_not_vary():
    design = StudyDesign(**{**ITEM_VARIATION.__dict__, "item_sd": 0.0})
    for source, rates in coverage(design, 200).items():
        assert (rates >= 0.88).all(), (source, rates)
        # Nothing to add when excerpts are alike: the two intervals agree closely.
        assert abs(rates[1] - rates[0]) <= 0.05 and abs(rates[3] - rates[2]) <= 0.05


def test_row_order_does_not_change_the_table():
    frame, _ = simulate_study(ITEM_VARIATION, seed=3)
    shuffled = frame.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(sdt_table(frame), sdt_table(shuffled))


def small_study(**changes) -> pd.DataFrame:
    design = StudyDesign(model_d_primes={"m": 0.8}, participants=12, **changes)
    return simulate_study(design, seed=9)[0]


INTERVALS = ["d_prime_ci_low", "d_prime_ci_high", "p_d_prime_vs_0", "criterion_ci_low"]


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(small_study().query("participant == 'p0'"), id="one participant"),
        pytest.param(small_study(trials_per_source=1, items_per_source=1), id="one item a source"),
        pytest.param(
            small_study().assign(judged_human=True, correct=lambda f: f.source_kind == "human"),
            id="all answers alike",
        ),
    ],
)
def test_degenerate_studies_give_means_without_intervals(frame):
    table = sdt_table(frame)
    assert np.isfinite(table["d_prime"]).all() and np.isfinite(table["criterion"]).all()
    assert table[INTERVALS].isna().all().all()
    report = build_report(frame)
    assert report.detection[INTERVALS].isna().all().all()
    assert any("d' and c intervals" in note for note in report.notes)


def test_a_source_without_judgments_has_no_participants():
    frame = small_study()
    group = group_sdt(frame, "no such model")
    assert (group.participants, group.signal_items, group.df) == (0, 0, -1)
    assert np.isnan(group.d_prime.estimate) and np.isnan(group.d_prime.se)
    no_humans = sdt_table(frame[frame[tidy.SOURCE] != tidy.HUMAN])
    assert no_humans.loc[ALL_MACHINES, "participants"] == 0
    assert no_humans[["d_prime", *INTERVALS]].isna().all().all()


def test_d_prime_verdicts_come_with_the_intervals_that_decided_them():
    design = StudyDesign(
        model_d_primes={"fooler": 0.0, "obvious": 1.5, "subtle": 0.25},
        participants=150,
        trials_per_source=12,
        items_per_source=24,
        threshold_sd=0.4,
        item_sd=0.2,
    )
    frame, _ = simulate_study(design, seed=4)
    table = sdt_table(frame, margin=0.3, alpha=0.05)
    models = table.drop(index=ALL_MACHINES)
    tost_levels = holm_levels(models["d_prime_tost_p"].to_numpy(), 0.05)
    zero_levels = holm_levels(models["p_d_prime_vs_0"].to_numpy(), 0.05)
    np.testing.assert_allclose(models["d_prime_tost_ci_level"], 1 - 2 * tost_levels)
    np.testing.assert_allclose(models["d_prime_vs_0_ci_level"], 1 - zero_levels)
    inside = (models["d_prime_tost_ci_low"] > -0.3) & (models["d_prime_tost_ci_high"] < 0.3)
    pd.testing.assert_series_equal(inside, models["d_prime_equivalent"], check_names=False)
    excludes_0 = (models["d_prime_vs_0_ci_low"] > 0) | (models["d_prime_vs_0_ci_high"] < 0)
    pd.testing.assert_series_equal(excludes_0, models["d_prime_different"], check_names=False)
    assert models.loc["fooler", "d_prime_equivalent"]
    assert models.loc["obvious", "d_prime_different"]
    assert not models.loc["obvious", "d_prime_equivalent"]
    # Pooled, the machines form a family of their own: unadjusted 95% and 90% intervals.
    pooled = table.loc[ALL_MACHINES]
    assert (pooled["d_prime_vs_0_ci_level"], pooled["d_prime_tost_ci_level"]) == (0.95, 0.9)
    assert pooled["d_prime_vs_0_ci_low"] == pytest.approx(pooled["d_prime_ci_low"])


def test_a_d_prime_margin_must_be_positive():
    with pytest.raises(ValueError, match="margin"):
        sdt_table(small_study(), margin=0.0)
