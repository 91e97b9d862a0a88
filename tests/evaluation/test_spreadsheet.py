import pandas as pd

from evaluation.spreadsheet import safe_cell, safe_frame


def test_text_a_spreadsheet_would_run_is_quoted_and_numbers_are_not():
    frame = pd.DataFrame(
        {"name": ["=1+1", "+x", "-y", "@SUM(A1)", "\tz", "plain", "a=b"], "d": [-0.5] * 7},
        index=pd.Index(["=i", "j", "k", "l", "m", "n", "o"], name="source"),
    )
    safe = safe_frame(frame)
    assert list(safe["name"]) == ["'=1+1", "'+x", "'-y", "'@SUM(A1)", "'\tz", "plain", "a=b"]
    assert list(safe["d"]) == [-0.5] * 7 and list(safe.index)[:2] == ["'=i", "j"]
    assert frame.loc["=i", "name"] == "=1+1"  # the caller's table is left as it was
    assert safe_cell(-3) == -3 and safe_cell(None) is None
