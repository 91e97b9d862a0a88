import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation import tidy
from evaluation.detection import (
    corrected_rate,
    criterion,
    d_prime,
    mean_estimate,
    participant_sdt,
    sdt_table,
)
from evaluation.simulate import StudyDesign, simulate_study


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


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=50), st.sampled_from([0.9, 0.95]))
def test_mean_interval_contains_the_mean(values, level):
    est = mean_estimate(np.array(values), level=level)
    assert est.ci_low <= est.estimate + 1e-9 <= est.ci_high + 2e-9


def test_mean_estimate_matches_scipy_one_sample_t():
    values = np.array([0.2, 1.1, 0.7, -0.3, 0.9, 1.4])
    est = mean_estimate(values)
    ref = stats.ttest_1samp(values, 0.0)
    low, high = ref.confidence_interval(0.95)
    assert est.p_value == pytest.approx(ref.pvalue)
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high))


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
