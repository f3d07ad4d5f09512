"""An explore run and a replay, composed from the parts: what `harness explore` and
`harness replay` do, with the printing left to the commands."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..experiment.model import Experiment
from ..interrupts import stop_requests
from ..run_folder import RunFolder, manifest
from ..world.environment import Environment
from .control import connect
from .likelihood import probability
from .narrate import Narrator
from .play import Attempt, Player
from .search import Searched, search
from .space import SearchSpace
from .trace import Trace, dump, make_trace

TRACE_FILE = "trace.json"
FINDINGS_FILE = "findings.json"


def way_entry(trace: Trace, probability: float, name: str) -> dict:
    """One way past as findings.json and explore.json list it: what it broke, its
    length, its probability per occurrence and its trace file."""
    return {
        "kind": trace.finding.kind,
        "detail": trace.finding.detail,
        "steps": len(trace.steps),
        "probability": probability,
        "minus_log10_probability": round(-math.log10(probability), 3) if probability > 0 else None,
        "trace": name,
    }


@dataclass
class Setup:
    experiment: Experiment
    seed: int
    space: SearchSpace
    player: Player
    narrator: Narrator

    @classmethod
    def build(
        cls,
        experiment: Experiment,
        seed: int,
        faults: tuple[str, ...],
        mistakes: int,
        depth: int,
        url: str | None,
        admin_token: str | None = None,
    ) -> Setup:
        env = Environment.build(experiment)
        space = SearchSpace.build(env, faults, mistakes, depth)
        player = Player(space, connect(env, seed, url, admin_token))
        return cls(experiment, seed, space, player, Narrator(space, player.conduct))

    def trace(self, attempt: Attempt) -> Trace:
        return make_trace(
            self.experiment,
            self.seed,
            self.space.faults,
            self.space.mistakes,
            attempt.moves,
            attempt.finding,
            self.narrator.lines(attempt),
        )


@dataclass
class Explored:
    searched: Searched
    trace: Trace | None  # the minimal way past, if one was found
    summary: dict  # what explore.json holds


def explore(
    setup: Setup, folder: RunFolder, *, budget: int | None, seconds: float | None
) -> Explored:
    """Search, and write the run folder: experiment.toml, manifest.json, explore.json and,
    when a way past is found, trace.json."""
    folder.write_text("experiment.toml", setup.experiment.to_toml())
    about = manifest(mode="explore", seed=setup.seed, status="running")
    with stop_requests() as stopping:  # a signal once the manifest says running is kept
        folder.write_json("manifest.json", about)
        searched = search(
            setup.player, seed=setup.seed, budget=budget, seconds=seconds, stopping=stopping
        )
    status = "interrupted" if searched.interrupted else "completed"
    summary = {
        "experiment": setup.experiment.experiment.name,
        "status": status,
        "seed": setup.seed,
        "budget": {"sequences": budget, "seconds": seconds},
        "searched": {
            "sequences": searched.sequences,
            "steps": searched.steps,
            "seconds": round(searched.seconds, 3),
        },
        "space": setup.space.describe(),
        "found": searched.attempt is not None,
    }
    trace, ways = None, []
    if searched.attempt is not None:
        trace = setup.trace(searched.attempt)
        folder.write_text(TRACE_FILE, dump(trace))
        summary.update(
            finding=trace.finding.model_dump(),
            steps=len(trace.steps),
            first_found_steps=searched.first_length,
            shrink_plays=searched.shrink_plays,
            trace=TRACE_FILE,
        )
        ways.append(way_entry(trace, probability(setup.player, searched.attempt), TRACE_FILE))
    folder.write_json("explore.json", summary)
    folder.write_json(FINDINGS_FILE, {"mode": "sampled", "ways": ways})
    about.update(status=status, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    folder.write_json("manifest.json", about)
    return Explored(searched, trace, summary)
