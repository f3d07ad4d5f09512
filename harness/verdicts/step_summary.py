"""A check as Markdown for the job summary of a GitHub Actions run (`$GITHUB_STEP_SUMMARY`):
the verdict, each gate and baseline comparison, and where the run folder and report are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..pipeline.check import CheckResult

VARIABLE = "GITHUB_STEP_SUMMARY"


def markdown(check: CheckResult) -> str:
    name = check.experiment.experiment.name
    if check.error is not None:
        verdict = f"harness error: {check.error}"
    elif check.interrupted:
        verdict = "interrupted before every gate was settled"
    else:
        verdict = "passed" if check.passed else "failed"
    lines = [
        f"## Safeguard gates: {name} ({verdict})",
        "",
        f"{check.replications:,} of {check.plan.replications:,} replications, "
        f"{check.seconds:.1f} s. Run folder: `{check.folder.path}` (report.html inside).",
        "",
        "| | gate | verdict |",
        "|---|---|---|",
    ]
    for index, gate in enumerate(check.experiment.gates):
        found = check.verdicts.get(index)
        if found is None:
            lines.append(f"| ⚠️ | `{gate.label}` | not settled |")
        else:
            mark = "✅" if found.passed else "❌"
            lines.append(f"| {mark} | `{gate.label}` | {_cell(found.describe())} |")
    for comparison in check.comparisons:
        mark = "❌" if comparison.worse else "✅"
        lines.append(
            f"| {mark} | baseline `{comparison.metric}` | {_cell(comparison.describe())} |"
        )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write(check: CheckResult) -> Path | None:
    """Append the check's Markdown to the job summary, when the CI provides one."""
    target = os.environ.get(VARIABLE)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as file:
        file.write(markdown(check))
    return path
