"""A comparison file with uncertain parameters: every configuration a two-level run on the
same parameter draws (the keys uncertain in any configuration), so that `pairs` can say in
how many parameter sets one configuration is safer than another."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..experiment.comparison_file import Comparison, load_comparison
from ..run_folder import RunFolder
from .spec import Study, study_from_raw


def load_studies(path: str | Path, overrides: list[str]) -> tuple[Comparison, tuple[Study, ...]]:
    """The comparison (each configuration at its median parameters) and each
    configuration's study."""
    studies: list[Study] = []

    def build(raw: dict, where: str, given: Any) -> Any:
        studies.append(study_from_raw(raw, where, given))
        return studies[-1].median

    plan = load_comparison(path, overrides, build=build)
    return plan, tuple(studies)


def drawn_keys(studies: tuple[Study, ...]) -> list[str]:
    """Every key uncertain in some configuration, in first-seen order."""
    keys: list[str] = []
    for study in studies:
        keys += [p.key for p in study.parameters if p.key not in keys]
    return keys


def refuse_options(args: argparse.Namespace, uncertain: bool, source: str) -> None:
    """Options a comparison under uncertainty has no use for, and --samples without it."""
    if not uncertain:
        if args.samples is not None:
            raise BadInput(f"--samples: {source} has no uncertain parameter to draw")
        return
    for flag, given in (("--resume", args.resume), ("--scheduler", args.scheduler)):
        if given:
            raise BadInput(
                f"{flag}: {source} has uncertain parameters; a comparison of two-level runs "
                "runs on this machine, from the start"
            )


def runner(
    plan: Comparison, studies: tuple[Study, ...], args: argparse.Namespace, samples: int
) -> Callable[[int, RunFolder, Callable[[int], None]], dict]:
    """Configuration i as a two-level run on the shared draws."""
    from .two_level import run_two_level

    keys = drawn_keys(studies)
    names = [c.name for c in plan.configurations]

    def run_one(index: int, folder: RunFolder, progress: Callable[[int], None]) -> dict:
        return run_two_level(
            studies[index],
            folder,
            samples=samples,
            sampling=args.sampling,
            jobs=args.jobs,
            on_progress=lambda stage, n: progress(n),
            draw_keys=keys,
            configuration=names[index],
        )

    return run_one
