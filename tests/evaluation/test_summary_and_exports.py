import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from evaluation import tidy
from evaluation.exports import (
    TABLES,
    headline_text,
    report_json,
    report_text,
    table_csv,
    tidy_csv,
)
from evaluation.plots import report_figures
from evaluation.rates import table_difference
from evaluation.simulate import StudyDesign, simulate_study
from evaluation.summary import (
    CAN_TELL,
    CANNOT_TELL,
    D_INCONCLUSIVE,
    DIFFERENT,
    INCONCLUSIVE,
    NO_BASELINE,
    PASSES,
    PASSES_WITH_DIFFERENCE,
    Headline,
    build_report,
    decision_intervals,
    funnel_counts,
    headline,
)


@pytest.fixture(scope="module")
def big_report():
    design = StudyDesign(
        model_d_primes={"fooler": 0.0, "obvious": 1.5},
        participants=300,
        trials_per_source=16,
        items_per_source=40,
        threshold_sd=0.3,
        item_sd=0.15,
        excluded_share=0.1,
    )
    frame, funnel = simulate_study(design, seed=21)
    return build_report(frame, funnel, margin=0.1), frame, funnel


def test_verdicts_follow_equivalence_not_absence_of_difference(big_report):
    report = big_report[0]
    assert report.sources.loc["fooler", "verdict"] in (PASSES, PASSES_WITH_DIFFERENCE)
    assert report.sources.loc["fooler", "equivalent"]
    assert report.sources.loc["obvious", "verdict"] == DIFFERENT
    assert report.sources.loc["human", "verdict"] == "baseline"
    assert report.detection.loc["fooler", "d_prime_verdict"] == CANNOT_TELL
    assert report.detection.loc["obvious", "d_prime_verdict"] == CAN_TELL
    assert headline(report.sources) == Headline(
        baseline=True,
        passing=["fooler"],
        distinguishable=["obvious"],
        undecided=[],
        detectable=["fooler"] if report.sources.loc["fooler", "verdict"] != PASSES else [],
    )


def test_each_verdict_sits_beside_the_interval_its_holm_adjusted_test_used(big_report):
    for table in (big_report[0].sources, big_report[0].batches):
        models = table.drop(index=[label for label in table.index if label == "human"])
        inside = (models["tost_ci_low"] > -0.1) & (models["tost_ci_high"] < 0.1)
        pd.testing.assert_series_equal(inside, models["equivalent"], check_names=False)
        excludes_0 = (models["diff_ci_low"] > 0) | (models["diff_ci_high"] < 0)
        different = models["p_vs_baseline_holm"] < 0.05
        pd.testing.assert_series_equal(excludes_0, different, check_names=False)
        # Two models, Holm: the first test is held to alpha / 2, the second to alpha.
        assert sorted(models["tost_ci_level"]) == pytest.approx([0.9, 0.95])
        assert sorted(models["diff_ci_level"]) == pytest.approx([0.95, 0.975])


def test_two_equal_tosts_inside_the_margin_at_90_percent_do_not_pass_and_do_not_look_it():
    # The audit's case: two models whose 90% intervals both sit inside +-10 points, each with a
    # raw TOST p under 0.05. Holm doubles it: neither passes, and the interval shown is the 95%
    # one, which reaches past the margin.
    size = 200.0  # every rate's effective sample size
    table = pd.DataFrame(
        {
            "rate_human": [0.5, 0.5, 0.5],
            "n_effective": [size, size, size],
            "diff_vs_baseline": [np.nan, 0.0, 0.0],
            "diff_se": [np.nan] + [np.sqrt(2 * 0.25 / size)] * 2,
            "diff_df": [np.nan, 30, 30],
            "diff_correlation": [np.nan, 0.0, 0.0],
        },
        index=[tidy.HUMAN, "a", "b"],
    )
    raw = table_difference(table, "a", tidy.HUMAN).tost(-0.1, 0.1, 0.05)
    assert 0.025 < raw.p_value < 0.05 and raw.ci_high < 0.1
    table["tost_p"] = [np.nan, raw.p_value, raw.p_value]
    decision_intervals(table, "tost", "tost_p", 2, 0.05)
    np.testing.assert_allclose(table["tost_p_holm"][1:], [2 * raw.p_value] * 2)
    np.testing.assert_allclose(table["tost_ci_level"][1:], [0.95, 0.95])
    shown = table_difference(table, "a", tidy.HUMAN).interval(0.95)
    np.testing.assert_allclose(table["tost_ci_high"][1:], [shown[1]] * 2)
    np.testing.assert_allclose(table["tost_ci_low"][1:], [shown[0]] * 2)
    assert (table["tost_ci_high"][1:] > 0.1).all()


def test_the_headline_says_no_model_was_shown_to_pass_when_none_was():
    report = tiny_study_report({"fooler": 0.0, "obvious": 1.5})
    top = headline(report.sources)
    assert top.passing == [] and "fooler" in top.undecided + top.distinguishable
    text = headline_text(report)
    assert text.startswith("No model was shown to pass for human")
    assert "No model passes" not in report_text(report)
    for name in top.distinguishable:
        assert report.sources.loc[name, "p_vs_baseline_holm"] < 0.05
        assert f"{name} is distinguishable from human" in text
    for name in top.undecided:
        assert report.sources.loc[name, "verdict"] == INCONCLUSIVE
        assert name in text.split("neither a difference")[0].split("For ")[-1]


def tiny_study_report(models: dict[str, float]):
    """Eight participants: too few to show much either way."""
    design = StudyDesign(
        model_d_primes=models, participants=8, trials_per_source=5, items_per_source=10
    )
    return build_report(*simulate_study(design, seed=2))


def test_a_small_study_of_an_indistinguishable_model_is_inconclusive():
    report = tiny_study_report({"fooler": 0.0})
    row = report.sources.loc["fooler"]
    assert not row["equivalent"]
    assert row["verdict"] in (INCONCLUSIVE, DIFFERENT)
    assert row["p_vs_baseline"] > 0.05 or row["verdict"] == DIFFERENT
    assert report.detection.loc["fooler", "d_prime_verdict"] in (D_INCONCLUSIVE, CAN_TELL)


def test_holm_adjusted_values_are_never_smaller(big_report):
    table = big_report[0].sources
    for raw, adjusted in [
        ("p_vs_chance", "p_vs_chance_holm"),
        ("p_vs_baseline", "p_vs_baseline_holm"),
        ("tost_p", "tost_p_holm"),
    ]:
        ok = table[raw].isna() | (table[adjusted] >= table[raw] - 1e-15)
        assert ok.all()


def test_funnel_and_exclusions_are_counted(big_report):
    report, frame, funnel = big_report
    steps = report.funnel.set_index("step")["participants"]
    excluded = frame.loc[frame[tidy.EXCLUDED], tidy.PARTICIPANT].nunique()
    assert steps["started"] == 300
    assert steps[tidy.ATTENTION_PASSED] == 300 - excluded
    assert steps["analysed"] == 300 - excluded
    row = report.exclusions.loc["failed attention check"]
    assert row["participants"] == excluded
    assert row["judgments"] == excluded * 3 * 16
    assert report.totals["judgments_analysed"] == (300 - excluded) * 3 * 16


def test_someone_still_taking_the_study_has_not_failed_its_attention_checks():
    # Attention checks are scored on completion: a participant half-way through has no score
    # yet, and must count as not yet completed, not as dropped at the attention step.
    funnel = tidy.validate_funnel(
        pd.DataFrame(
            {
                tidy.PARTICIPANT: ["done", "half-way", "careless"],
                tidy.STARTED: True,
                tidy.CONSENTED: True,
                tidy.HEADPHONE_PASSED: True,
                tidy.COMPLETED: [True, False, True],
                tidy.ATTENTION_PASSED: [True, False, False],
            }
        )
    )
    steps = funnel_counts(funnel, tidy.empty()).set_index("step")
    assert steps.loc[tidy.COMPLETED, "participants"] == 2
    assert steps.loc[tidy.COMPLETED, "dropped"] == 1
    assert steps.loc[tidy.ATTENTION_PASSED, "participants"] == 1


def test_inference_uses_only_kept_rows(big_report):
    report, frame, _ = big_report
    assert any("Only the verdicts per model keep the stated error rate" in n for n in report.notes)
    assert report.sources["judgments"].sum() == (~frame[tidy.EXCLUDED]).sum()


def test_breakdowns_batches_and_items(big_report):
    report, frame, _ = big_report
    assert set(report.training["training"]) == {"non-musicians", "everyone else"}
    assert set(report.batches.index) == {"human", "fooler / 1", "obvious / 1"}
    assert len(report.items) == 120
    assert report.items["rate_human"].is_monotonic_decreasing
    assert set(report.detection.index) == {"all machines", "fooler", "obvious"}
    assert set(report.ratings) == {"judgment", "item"}
    assert report.musicality_counts.to_numpy().sum() == report.totals["judgments_analysed"]


def test_json_is_strict_and_complete(big_report):
    data = json.loads(report_json(big_report[0]))
    assert data["settings"]["margin"] == 0.1
    assert data["settings"]["d_prime_margin"] == 0.3
    sources = {row["group"]: row for row in data["sources"]}
    assert data["headline"] == {
        "baseline": True,
        "passing": ["fooler"],
        "distinguishable": ["obvious"],
        "undecided": [],
        "detectable": ["fooler"] if sources["fooler"]["verdict"] != PASSES else [],
    }
    assert sources["human"]["diff_vs_baseline"] is None
    assert sources["obvious"]["verdict"] == DIFFERENT
    assert sources["fooler"]["tost_ci_level"] in (0.9, 0.95)
    assert {"diff_ci_level", "tost_ci_low", "tost_ci_high"} <= set(sources["fooler"])
    assert set(data["accuracy"]) == {"estimate", "se", "df", "ci_low", "ci_high", "null", "p_value"}
    detection = {row["source"]: row for row in data["detection"]}
    assert detection["fooler"]["d_prime_verdict"] == CANNOT_TELL
    assert detection["fooler"]["d_prime_tost_ci_level"] in (0.9, 0.95)
    assert {"funnel", "exclusions", "detection", "ratings", "training", "items"} <= set(data)


def test_tidy_csv_round_trips(big_report):
    frame = big_report[1]
    back = pd.read_csv(
        io.StringIO(tidy_csv(frame)),
        keep_default_na=False,
        na_values={tidy.MUSICAL_TRAINING_YEARS: [""], tidy.GOLD_MSI_TRAINING: [""]},
    )
    again = tidy.validate(back)
    original = tidy.validate(frame)
    for column in tidy.COLUMNS:
        np.testing.assert_array_equal(again[column].astype(str), original[column].astype(str))


@pytest.mark.parametrize("name", TABLES)
def test_every_table_exports_as_csv(big_report, name):
    text = table_csv(big_report[0], name)
    assert len(pd.read_csv(io.StringIO(text))) == len(getattr(big_report[0], name))


def test_unknown_table_is_refused(big_report):
    with pytest.raises(ValueError, match="unknown table"):
        table_csv(big_report[0], "secrets")


def test_text_summary_names_each_source_and_verdict(big_report):
    text = report_text(big_report[0])
    for word in ("fooler", "obvious", "human", DIFFERENT, "d'", "Kruskal-Wallis", "Funnel"):
        assert word in text
    assert "fooler passes for human" in text and "obvious is distinguishable from human" in text
    assert CANNOT_TELL in text and "90.0% CI" in text


def test_figures_are_deterministic_svg(big_report):
    figures = report_figures(big_report[0])
    assert set(figures) == {"rates", "d_prime", "musicality"}
    for svg in figures.values():
        assert svg.startswith("<svg")  # inline in the page: no XML prologue
        root = ET.fromstring(svg.encode())
        assert root.tag.endswith("svg")
        # Named for screen readers, in numbers a listener can follow.
        assert root.get("role") == "img" and root.get("aria-label")
        assert root[0].tag.endswith("title") and root[0].text == root.get("aria-label")
    assert "obvious" in figures["rates"]
    assert "obvious" in ET.fromstring(figures["rates"].encode()).get("aria-label")
    assert report_figures(big_report[0]) == figures


def test_empty_study_gives_an_empty_report():
    report = build_report(tidy.empty())
    assert report.sources.empty and report.accuracy is None
    assert "No analysable judgments yet." in report.notes
    assert report_figures(report) == {}
    assert json.loads(report_json(report))["sources"] == []
    assert "Study:" in report_text(report)


def test_machine_only_study_has_no_baseline():
    design = StudyDesign(model_d_primes={"a": 0.5}, participants=10)
    frame, _ = simulate_study(design)
    frame = frame[frame[tidy.SOURCE] != tidy.HUMAN]
    report = build_report(frame)
    assert report.sources.loc["a", "verdict"] == NO_BASELINE
    assert report.detection["participants"].eq(0).all()
    report_text(report)
    report_figures(report)


@pytest.mark.parametrize("name", TABLES)
def test_a_table_with_nothing_analysed_downloads_as_its_header(name):
    # It downloaded as one newline, which read_csv refuses.
    empty = pd.read_csv(io.StringIO(table_csv(build_report(tidy.empty()), name)))
    full = pd.read_csv(io.StringIO(table_csv(build_report(*simulate_study(StudyDesign())), name)))
    assert list(empty.columns) == list(full.columns) and len(empty) <= 1  # the funnel: analysed 0
