"""Exhaustive and most-likely explore runs, composed from the parts: the search, its traces
(one per way past, each replayable with `harness replay`), `explore.json` and
`findings.json`. The printing is left to the command."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..run_folder import RunFolder, manifest
from .exhaustive import Enumerated, enumerate_moves
from .likelihood import Ranked, Way, most_likely, probability
from .runs import FINDINGS_FILE, TRACE_FILE, Setup, way_entry
from .state import Symmetry
from .trace import Trace, dump


@dataclass
class Bounded:
    mode: str  # "exhaustive" or "most_likely"
    searched: Enumerated | Ranked
    ways: list[tuple[Way, Trace, str]]  # each way past, its trace and the trace's file name
    summary: dict  # what explore.json holds
    assumptions: list[str]


def run_bounded(
    setup: Setup,
    folder: RunFolder,
    *,
    most: int | None,
    seconds: float | None,
    states: int | None,
) -> Bounded:
    """Search breadth first (`most` None) or for the `most` most likely ways past, and
    write the run folder."""
    folder.write_text("experiment.toml", setup.experiment.to_toml())
    about = manifest(mode="explore", seed=setup.seed, status="running")
    folder.write_json("manifest.json", about)
    player = setup.player
    if most is None:
        mode, searched = "exhaustive", enumerate_moves(player, seconds=seconds, states=states)
        found = [] if searched.attempt is None else [searched.attempt]
        ways = [Way(a, probability(player, a)) for a in found]
    else:
        mode = "most_likely"
        searched = most_likely(player, top=most, seconds=seconds, states=states)
        ways = searched.ways
    traced = []
    for index, way in enumerate(ways, start=1):
        name = TRACE_FILE if index == 1 else f"trace-{index}.json"
        trace = setup.trace(way.attempt)
        folder.write_text(name, dump(trace))
        traced.append((way, trace, name))
    assumptions = Symmetry.of(setup.space).describe()
    summary = _summary(setup, mode, searched, traced, seconds, states, assumptions)
    folder.write_json("explore.json", summary)
    folder.write_json(FINDINGS_FILE, {"mode": mode, "ways": summary["ways"]})
    status = "interrupted" if searched.stopped_by == "interrupted" else "completed"
    about.update(status=status, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    folder.write_json("manifest.json", about)
    return Bounded(mode, searched, traced, summary, assumptions)


def _summary(
    setup: Setup,
    mode: str,
    searched: Enumerated | Ranked,
    traced: list[tuple[Way, Trace, str]],
    seconds: float | None,
    states: int | None,
    assumptions: list[str],
) -> dict:
    covered = getattr(searched, "covered", None)
    return {
        "experiment": setup.experiment.experiment.name,
        "mode": mode,
        "status": "interrupted" if searched.stopped_by == "interrupted" else "completed",
        "seed": setup.seed,
        "bounds": {"depth": setup.space.depth, "mistakes": setup.space.mistakes},
        "budget": {"seconds": seconds, "states": states},
        "searched": {
            "states": searched.states,
            "seconds": round(searched.seconds, 3),
            "depth_fully_covered": covered,
            "stopped_by": searched.stopped_by,
            "exhausted": searched.exhausted,
        },
        "space": setup.space.describe(),
        "assumptions": assumptions,
        "found": bool(traced),
        "ways": [way_entry(trace, way.probability, name) for way, trace, name in traced],
    }
