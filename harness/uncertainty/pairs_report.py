"""What a person sees of configurations compared under the same parameter draws, and of a
two-level run in report.html: the band next to the sampling interval, and per pair the
parameter sets one configuration is safer in."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from rich.console import Console

from ..run_folder import RunData
from .report import BAND_COLUMNS, LABELS, band_rows, band_title

PAIR_COLUMNS = ("configuration", "against", "safer in", "as safe in", "less safe in", "loses most")


def safer_text(pair: dict) -> str:
    """'safer in 21 of 32 parameter sets (66%)'."""
    return f"safer in {pair['safer']} of {pair['sets']} parameter sets ({pair['safer_share']:.0%})"


def loses_text(pair: dict) -> str:
    """Where the configuration loses most, or why that is not said."""
    where = pair["loses_where"]
    if where is None:
        return "in no parameter set" if not pair["less_safe"] else "in every parameter set"
    return (
        f"mostly where {where['parameter']} {where['region']} (less safe in "
        f"{where['losing']} of {where['sets']} sets there, {where['losing_elsewhere']} of "
        f"{where['sets_elsewhere']} elsewhere)"
    )


def pair_cells(pair: dict) -> tuple[str, ...]:
    if "note" in pair:
        return (pair["configuration"], pair["baseline"], pair["note"], "", "", "")
    return (
        pair["configuration"],
        pair["baseline"],
        f"{pair['safer']} of {pair['sets']} ({pair['safer_share']:.0%})",
        str(pair["tied"]),
        str(pair["less_safe"]),
        loses_text(pair),
    )


def print_pairs(section: dict, out: Console) -> None:
    """Each configuration against the baseline, set by set."""
    out.print(_heading(section))
    for pair in section["pairs"]:
        if "note" in pair:
            out.print(f"  {pair['configuration']}: {pair['note']}")
            continue
        out.print(
            f"  {pair['configuration']}: {safer_text(pair)}, as safe in {pair['tied']}, "
            f"less safe in {pair['less_safe']}, {loses_text(pair)}"
        )


def _heading(section: dict) -> str:
    return (
        f"Under the same {section['samples']} parameter sets ({section['sampling']}, "
        f"{section['replications_per_set']:,} replications each, the same seeds), "
        f"by {LABELS[section['metric']]} against the baseline:"
    )


def html_section(comparison: dict, runs: Sequence[RunData]) -> str:
    """report.html's uncertainty section: each run's band next to its sampling interval and,
    for a comparison, the parameter sets each configuration is safer in ('' when no run
    had uncertain parameters)."""
    parts = []
    for run in runs:
        section = run.summary.get("uncertainty")
        if section is None:
            continue
        name = f" ({escape(run.name)})" if len(runs) > 1 else ""
        parts.append(
            f"<h3>{escape(band_title(section))}{name}</h3>\n"
            + _table(BAND_COLUMNS, band_rows(section))
        )
    if not parts:
        return ""
    pairs = comparison.get("uncertainty", {}).get("pairs", [])
    if pairs:
        parts.append(
            f"<h3>Set by set</h3>\n<p>{escape(_heading(comparison['uncertainty']))}</p>\n"
            + _table(PAIR_COLUMNS, [pair_cells(p) for p in pairs])
        )
    return "<h2>What we do not know</h2>\n<p>" + escape(READING) + "</p>\n" + "\n".join(parts)


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>\n" for row in rows
    )
    return f"<table>\n<tr>{head}</tr>\n{body}</table>"


READING = (
    "The 95% sampling interval at the median parameters is what more replications would "
    "narrow. The uncertainty band is the range of the rate over parameter sets drawn from "
    "what is not known: more replications cannot narrow it. The sampling noise share is the "
    "part of the band's variance that is the replications' own noise; when it is large, run "
    "more replications per set before reading the band. The rates in the main tables are "
    "those at the median parameters."
)
