"""The tidy answer table: the contract between the survey app and the statistics.

Every statistic in evaluation/ reads this table, never the database, so the numbers can be
recomputed from an export and tested without Django. One row is one answered *experimental* trial
(practice trials and attention checks are not rows; their outcome is the ``attention_passed``
column). Participant-level columns are repeated on each of that participant's rows so one table is
enough for every breakdown.

The participant funnel (how many started, consented, passed the headphone check, passed the
attention checks, completed) is a second table with one row per participant who started,
because people who dropped out before answering anything have no answer rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STUDY = "study"
PARTICIPANT = "participant"  # opaque token or id, as text
ITEM = "item"  # stimulus id, as text
SOURCE_KIND = "source_kind"  # "human" or "machine"
SOURCE = "source"  # "human" or a model label such as "seq2seq"
BATCH = "batch"  # generation batch id, "" for human excerpts
JUDGED_HUMAN = "judged_human"  # the participant answered "a person"
CORRECT = "correct"  # the answer matched the true source kind
CONFIDENCE = "confidence"  # 1..5
MUSICALITY = "musicality"  # 1..5
RESPONSE_MS = "response_ms"  # from the answer buttons unlocking to the answer
PLAYS = "plays"  # times the excerpt was started
MUSICAL_TRAINING_YEARS = "musical_training_years"  # NaN when not answered
GOLD_MSI_TRAINING = "gold_msi_training"  # Gold-MSI musical-training score, NaN when not answered
NON_MUSICIAN = "non_musician"
ATTENTION_PASSED = "attention_passed"
HEADPHONE_PASSED = "headphone_passed"
COMPLETED = "completed"
EXCLUDED = "excluded"  # by the study's pre-registered exclusion rules
EXCLUSION_REASON = "exclusion_reason"  # "" when not excluded

HUMAN = "human"
MACHINE = "machine"
SOURCE_KINDS = (HUMAN, MACHINE)
SCALE = (1, 5)

TEXT_COLUMNS = (STUDY, PARTICIPANT, ITEM, SOURCE_KIND, SOURCE, BATCH, EXCLUSION_REASON)
BOOL_COLUMNS = (
    JUDGED_HUMAN,
    CORRECT,
    NON_MUSICIAN,
    ATTENTION_PASSED,
    HEADPHONE_PASSED,
    COMPLETED,
    EXCLUDED,
)
SCALE_COLUMNS = (CONFIDENCE, MUSICALITY)
INT_COLUMNS = (RESPONSE_MS, PLAYS)
FLOAT_COLUMNS = (MUSICAL_TRAINING_YEARS, GOLD_MSI_TRAINING)
COLUMNS = (
    STUDY,
    PARTICIPANT,
    ITEM,
    SOURCE_KIND,
    SOURCE,
    BATCH,
    JUDGED_HUMAN,
    CORRECT,
    CONFIDENCE,
    MUSICALITY,
    RESPONSE_MS,
    PLAYS,
    MUSICAL_TRAINING_YEARS,
    GOLD_MSI_TRAINING,
    NON_MUSICIAN,
    ATTENTION_PASSED,
    HEADPHONE_PASSED,
    COMPLETED,
    EXCLUDED,
    EXCLUSION_REASON,
)

STARTED = "started"
CONSENTED = "consented"
# In the order a participant passes them: the attention checks are scored when the study is
# completed, so someone still taking part has dropped out of nothing before "completed".
FUNNEL_STEPS = (STARTED, CONSENTED, HEADPHONE_PASSED, COMPLETED, ATTENTION_PASSED)
FUNNEL_COLUMNS = (PARTICIPANT, *FUNNEL_STEPS)


class TidyTableError(ValueError):
    """The table does not meet the contract; the message says which column and rows."""


def _rows(mask: pd.Series) -> str:
    bad = list(mask[mask].index[:5])
    return f"{int(mask.sum())} row(s), e.g. index {bad}"


def as_bool(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as booleans; every table contract here (answers, funnel, pairs) checks alike."""
    series = frame[column]
    if series.dtype == bool:
        return series
    if series.isna().any():
        raise TidyTableError(f"column {column!r} has missing values: {_rows(series.isna())}")
    values = set(pd.unique(series))
    if not values <= {True, False}:
        raise TidyTableError(f"column {column!r} must be boolean, found {sorted(map(str, values))}")
    return series.astype(bool)


def as_text(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as text, refused when any value is missing."""
    series = frame[column]
    if series.isna().any():
        raise TidyTableError(f"column {column!r} has missing values: {_rows(series.isna())}")
    return series.astype(str)


def _as_number(frame: pd.DataFrame, column: str, allow_nan: bool) -> pd.Series:
    series = pd.to_numeric(frame[column], errors="coerce")
    bad = series.isna() & (frame[column].notna() | (not allow_nan))
    if bad.any():
        raise TidyTableError(f"column {column!r} must be numeric: {_rows(bad)}")
    return series


def validate(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a tidy answer table and return a copy with canonical dtypes and column order.

    Raises TidyTableError naming the first broken rule, leaving the input untouched, so a bad export
    or a bug in the survey side is caught before any number is computed from it.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise TidyTableError(f"missing column(s): {missing}")
    out = pd.DataFrame(index=frame.index)
    for column in TEXT_COLUMNS:
        # Categorical: a study has few distinct participants/items/sources and many rows, and
        # comparisons and group-bys on categories are an order of magnitude faster than on text.
        out[column] = as_text(frame, column).astype("category")
    for column in BOOL_COLUMNS:
        out[column] = as_bool(frame, column)
    for column in SCALE_COLUMNS:
        values = _as_number(frame, column, allow_nan=False)
        outside = (values < SCALE[0]) | (values > SCALE[1]) | (values != np.round(values))
        if outside.any():
            raise TidyTableError(f"column {column!r} must be an integer 1..5: {_rows(outside)}")
        out[column] = values.astype(np.int64)
    for column in INT_COLUMNS:
        values = _as_number(frame, column, allow_nan=False)
        if (values < 0).any():
            raise TidyTableError(f"column {column!r} must be >= 0: {_rows(values < 0)}")
        out[column] = values.astype(np.int64)
    for column in FLOAT_COLUMNS:
        out[column] = _as_number(frame, column, allow_nan=True).astype(float)

    kind = out[SOURCE_KIND]
    if not kind.isin(SOURCE_KINDS).all():
        raise TidyTableError(
            f"{SOURCE_KIND!r} must be 'human' or 'machine': {_rows(~kind.isin(SOURCE_KINDS))}"
        )
    mismatch = (kind == HUMAN).to_numpy() != (out[SOURCE] == HUMAN).to_numpy()
    if mismatch.any():
        raise TidyTableError(f"'human' source must go with 'human' source_kind: {_rows(mismatch)}")
    wrong = out[CORRECT] != (out[JUDGED_HUMAN] == (kind == HUMAN).to_numpy())
    if wrong.any():
        raise TidyTableError(
            f"{CORRECT!r} disagrees with judged_human and source_kind: {_rows(wrong)}"
        )
    item_sources = out.groupby(ITEM, observed=True)[SOURCE].nunique()
    if (item_sources > 1).any():
        raise TidyTableError(
            f"items with more than one source: {list(item_sources[item_sources > 1].index[:5])}"
        )
    duplicated = out.duplicated([STUDY, PARTICIPANT, ITEM])
    if duplicated.any():
        raise TidyTableError(f"a participant answered the same item twice: {_rows(duplicated)}")
    unexplained = out[EXCLUDED] & (out[EXCLUSION_REASON] == "").to_numpy()
    if unexplained.any():
        raise TidyTableError(f"excluded rows need an exclusion_reason: {_rows(unexplained)}")
    return out[list(COLUMNS)].reset_index(drop=True)


def validate_funnel(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a funnel table (one row per participant who started) and canonicalise it."""
    missing = [c for c in FUNNEL_COLUMNS if c not in frame.columns]
    if missing:
        raise TidyTableError(f"funnel is missing column(s): {missing}")
    out = pd.DataFrame({PARTICIPANT: as_text(frame, PARTICIPANT)})
    for column in FUNNEL_STEPS:
        out[column] = as_bool(frame, column)
    if out[PARTICIPANT].duplicated().any():
        raise TidyTableError(
            f"funnel lists a participant twice: {_rows(out[PARTICIPANT].duplicated())}"
        )
    return out.reset_index(drop=True)


def analysed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows the study's exclusion rules keep: the only rows any inferential statistic may use."""
    return frame.loc[~frame[EXCLUDED]].reset_index(drop=True)


def empty() -> pd.DataFrame:
    """A valid tidy table with no rows (a study nobody has answered yet)."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in TEXT_COLUMNS})
    for column in BOOL_COLUMNS:
        frame[column] = pd.Series(dtype=bool)
    for column in (*SCALE_COLUMNS, *INT_COLUMNS):
        frame[column] = pd.Series(dtype=np.int64)
    for column in FLOAT_COLUMNS:
        frame[column] = pd.Series(dtype=float)
    return frame[list(COLUMNS)]
