"""CSV cells a spreadsheet will not run as formulas.

Researchers open the exports in Excel, LibreOffice or Google Sheets, which run a cell that
begins with =, +, -, @, a tab or a carriage return as a formula. Text in them comes from
outside: Prolific ids from a study link anyone can open, model and batch names typed by
researchers. OWASP's advice for CSV injection is followed: such a text cell gets a ' in front,
which the spreadsheet shows as text. Numbers are left alone (a negative number is not text).
"""

from collections.abc import Callable

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The value, with a ' before it when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the table with every text cell (its index too) made safe."""
    safe = frame.copy()
    for column in safe.columns:
        if _text(safe[column].dtype):
            safe[column] = safe[column].map(safe_cell)
    if _text(safe.index.dtype):
        safe.index = safe.index.map(safe_cell)
    return safe


def _text(dtype) -> bool:
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def table_csv_text(table: pd.DataFrame, shape: Callable[[], pd.DataFrame]) -> str:
    """A report table as safe CSV text, its index included when named. A table with no columns
    (nothing analysed yet) takes them from ``shape()`` and downloads as its header row: an empty
    file broke read_csv."""
    if len(table.columns) == 0:
        table = shape().iloc[:0]
    named_index = any(level is not None for level in table.index.names)
    return safe_frame(table).to_csv(index=named_index)
