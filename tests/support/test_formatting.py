"""Table cells: integer columns that pandas turned into floats, NumPy scalars, missing values."""

import numpy as np
import pandas as pd

from scaling_search.cli.common import fmt
from scaling_search.reporting.tables import to_markdown
from scaling_search.support.formatting import format_number


def test_integer_spec_takes_integral_floats_and_numpy_scalars():
    assert format_number(32.0, "d") == "32"
    assert format_number(np.int64(1234567), ",d") == "1,234,567"
    assert format_number(np.float64(2.5), "d") == "2.5"  # not an integer: shown, never an exception
    assert format_number(float("inf"), ",d") == "inf"
    assert format_number(float("nan"), "d") == format_number(None, ".3f") == "-"
    assert fmt("d")(np.nan) == "-" and fmt(".2f")(np.float32(0.5)) == "0.50"


def test_markdown_table_of_a_column_with_a_missing_integer():
    frame = pd.DataFrame({"trial": ["a", "b"], "resolution": [18, None]})  # becomes float64 with NaN
    assert frame["resolution"].dtype == np.float64
    assert to_markdown(frame, {"resolution": "d"}).splitlines()[2:] == ["| a | 18 |", "| b | – |"]
