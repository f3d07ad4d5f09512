"""What an explore run established, in sentences, from its `explore.json` alone: the same
words for the terminal and for report.html.

A bounded search that finds nothing states what it proved: no way past within the
bounds, over how many distinct states, or, when a budget stopped it, the depth it fully
covered. A sampling search that finds nothing only says how much it tried.
"""

from __future__ import annotations


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def bounds(summary: dict) -> str:
    """ "6 steps and 1 mistake"."""
    b = summary["bounds"]
    return f"{plural(b['depth'], 'step')} and {plural(b['mistakes'], 'mistake')}"


def took(summary: dict) -> str:
    searched = summary["searched"]
    if "states" in searched:
        return f"{searched['states']:,} distinct states in {searched['seconds']:.1f}s"
    return (
        f"{searched['sequences']:,} sequences ({searched['steps']:,} moves) in "
        f"{searched['seconds']:.1f}s"
    )


def none_found(summary: dict) -> list[str]:
    """The statement when no way past was found: a headline, then its details."""
    if "mode" not in summary:  # sampled
        return [f"no way past found in {took(summary)}: a sample, not a proof"]
    searched = summary["searched"]
    stopped = searched["stopped_by"]
    if stopped is None:
        lines = [
            f"no way past within {bounds(summary)}: {took(summary)}, every move of every "
            "operator considered (up to the symmetries below)"
        ]
        if searched["exhausted"]:
            lines.append("(every reachable state within these bounds was explored)")
        return lines
    what = {"time": "time", "states": "state"}.get(stopped, stopped)
    lines = [f"the {what} budget stopped the search after {took(summary)}"]
    covered = searched.get("depth_fully_covered")
    if covered is not None:
        lines.append(
            f"depth {covered} fully covered: no way past within {plural(covered, 'step')} "
            f"and the same mistakes; depth {covered + 1} not finished"
        )
    else:
        lines.append("no way past among the states reached; not a bounded proof")
    return lines


def space_lines(summary: dict) -> list[str]:
    """Whose moves, on which accounts, under which faults."""
    space = summary["space"]
    return [
        f"operators: {', '.join(space['operators'])}",
        f"accounts: {' '.join(space['accounts'])}; faults: "
        f"{', '.join(space['faults']) or 'none'}; mistakes allowed: {space['mistakes']}",
    ]
