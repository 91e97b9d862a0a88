import numpy as np
import pandas as pd
import pytest

from evaluation import tidy


def test_simulated_table_validates_and_keeps_every_row(small_study):
    frame, funnel = small_study
    out = tidy.validate(frame)
    assert list(out.columns) == list(tidy.COLUMNS)
    assert len(out) == len(frame)
    assert out[tidy.JUDGED_HUMAN].dtype == bool
    assert len(tidy.validate_funnel(funnel)) == 60
    assert not tidy.analysed(out)[tidy.EXCLUDED].any()


def test_empty_table_is_valid():
    assert tidy.validate(tidy.empty()).empty


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=[tidy.ITEM]), "missing column"),
        (lambda f: f.assign(source_kind="robot"), "'human' or 'machine'"),
        (lambda f: f.assign(correct=~f[tidy.CORRECT]), "disagrees"),
        (lambda f: f.assign(musicality=7), "1..5"),
        (lambda f: f.assign(confidence=2.5), "1..5"),
        (lambda f: f.assign(response_ms=-1), ">= 0"),
        (lambda f: f.assign(judged_human="maybe"), "boolean"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "same item twice"),
        (lambda f: f.assign(exclusion_reason=""), "exclusion_reason"),
        (lambda f: f.assign(item="one-item"), "more than one source"),
    ],
)
def test_bad_tables_are_refused_with_a_clear_message(small_study, change, message):
    frame = small_study[0]
    before = frame.copy()
    bad = change(frame.copy())
    with pytest.raises(tidy.TidyTableError, match=message):
        tidy.validate(bad)
    pd.testing.assert_frame_equal(frame, before)


def test_missing_training_years_are_allowed(small_study):
    frame = small_study[0].copy()
    frame[tidy.MUSICAL_TRAINING_YEARS] = np.nan
    assert tidy.validate(frame)[tidy.MUSICAL_TRAINING_YEARS].isna().all()


def test_funnel_rejects_duplicates(small_study):
    funnel = small_study[1]
    with pytest.raises(tidy.TidyTableError, match="twice"):
        tidy.validate_funnel(pd.concat([funnel, funnel.iloc[:1]]))
