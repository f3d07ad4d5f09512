"""Reports people read: report.html (self-contained) and, on request, the charts as PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..run_folder import RunData
from .charts import to_png
from .page import figures, render, shift_of

__all__ = ["render", "write_pngs"]


def write_pngs(folder: Path, comparison: dict, runs: Sequence[RunData]) -> list[Path]:
    """The report's charts as charts/<name>.png, for slides and tickets (none for
    importance-sampling runs, whose page has no charts)."""
    if comparison.get("estimator") == "importance":
        return []
    out = folder / "charts"
    out.mkdir(exist_ok=True)
    written = []
    for anchor, _, figure, _ in figures(comparison["configurations"], runs, shift_of(runs[0])):
        path = out / f"{anchor.removeprefix('chart-')}.png"
        to_png(figure, str(path))
        written.append(path)
    return written
