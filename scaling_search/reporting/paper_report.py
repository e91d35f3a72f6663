"""``scaling-search report --paper``: the released B0–B7 measured here, without a study."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.counter import make_counter
from scaling_search.reporting import figures
from scaling_search.reporting.tables import PAPER_COLUMNS, paper_table, write_table
from scaling_search.support.publish import write_report_folder


def paper_report(out: Path, wanted: tuple[str, ...]) -> Path:
    """Released B0–B7 measured here (fvcore) against the closed form and the paper's Table 2."""
    table = paper_table(make_counter("fvcore"), analytic_counts)
    family = table.assign(source="released", macs_ratio=table["macs"] / table["macs"].iloc[0])

    def fill(folder: Path) -> None:
        markdown = write_table(folder, "released_family", table, PAPER_COLUMNS,
                               "Released EfficientNet B0–B7 measured here against the paper's Table 2", wanted)
        figures.family_growth(family, folder / "figures")
        (folder / "index.md").write_text("\n".join([
            "# The released EfficientNet family, measured",
            "",
            "Parameters and multiply-adds (conv and linear layers, SE included; BatchNorm, activations and pooling "
            "not counted) of the released B0–B7 at 1000 classes, measured with fvcore on a real forward pass and "
            "checked against the closed-form count. The paper's Table 2 gives params in millions and FLOPs in "
            "billions to two significant digits; where the measurement differs by more than that rounding, the "
            "difference is shown.",
            "",
            markdown,
            "![cost growth of the released family](figures/family_growth.png)",
            "",
            f"Regenerate with `scaling-search report --paper` (Python {platform.python_version()}, "
            f"{sys.platform}).",
            "",
        ]))

    return write_report_folder(out, fill)
