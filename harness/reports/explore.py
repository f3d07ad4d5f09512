"""report.html of an explore run: every way past found, as the numbered steps people read,
with its length and probability per occurrence, or the statement of what the search
established when it found none (bounds, state count, symmetry assumptions). Built from the
run folder's files alone (explore.json, findings.json, the traces), self-contained like
the other reports."""

from __future__ import annotations

import re
from html import escape

from ..explore import statement
from ..explore.findings import KINDS
from ..run_folder import RunFolder
from .page import document

NUMBERED = re.compile(r"^\d+\.\s+")


def render_explore(folder: RunFolder) -> str:
    """The whole page, from an explore run folder."""
    summary = folder.read_json("explore.json")
    ways = _ways(folder, summary)
    title = f"{summary['experiment']}: ways past the safeguards"
    sections = [
        _header(summary, title),
        _ways_section(ways, summary) if ways else _none_section(summary),
        _space_section(summary),
        _experiment_section(folder),
        _method(summary),
    ]
    return document(title, sections)


def _ways(folder: RunFolder, summary: dict) -> list[dict]:
    """Each way past with its trace's narration: from findings.json, or (a sampled run
    of an older layout) from explore.json's one trace."""
    if (folder.path / "findings.json").is_file():
        ways = folder.read_json("findings.json")["ways"]
    elif summary.get("found"):
        finding = summary["finding"]
        ways = [{**finding, "steps": summary["steps"], "trace": summary["trace"]}]
    else:
        ways = []
    out = []
    for way in ways:
        trace = folder.read_json(way["trace"])
        out.append({**way, "narration": trace["narration"], "step": trace["finding"]["step"]})
    return out


def _header(summary: dict, title: str) -> str:
    mode = {"exhaustive": "exhaustive (breadth first)", "most_likely": "most likely first"}
    line = (
        f"search: {mode.get(summary.get('mode'), 'sampled')} · seed {summary['seed']} · "
        f"{statement.took(summary)} · {summary['status']}"
    )
    if "bounds" in summary:
        line += f" · bounds: {statement.bounds(summary)}"
    return f'<h1>{escape(title)}</h1>\n<p class="meta">{escape(line)}</p>'


def _ways_section(ways: list[dict], summary: dict) -> str:
    mode = summary.get("mode")
    if mode == "exhaustive":
        intro = (
            "The first way past breadth first: every shorter sequence of moves was tried "
            "before it, so none is shorter."
        )
    elif mode == "most_likely":
        intro = (
            f"The {len(ways)} most probable ways past within {statement.bounds(summary)}, "
            "most probable first."
        )
    else:
        intro = "The shortest way past the sampling search found (shrunk), not a proof."
    parts = [f'<h2 id="ways">Ways past</h2>\n<p>{escape(intro)}</p>']
    for rank, way in enumerate(ways, start=1):
        parts.append(_way(rank, way))
    return "\n".join(parts)


def _way(rank: int, way: dict) -> str:
    probability = way.get("probability")
    chance = "" if probability is None else f"probability {probability:.3g} per occurrence, "
    steps = "".join(f"<li>{escape(NUMBERED.sub('', line))}</li>\n" for line in way["narration"])
    return (
        f'<section class="way" id="way-{rank}">\n'
        f"<h3>{rank}. {escape(chance)}{escape(statement.plural(way['steps'], 'step'))}</h3>\n"
        f"<ol>\n{steps}</ol>\n"
        f"<p><strong>{escape(KINDS.get(way['kind'], way['kind']))}</strong>: "
        f"{escape(way['detail'])} (step {way['step']})</p>\n"
        f'<p class="meta">trace: <code>{escape(way["trace"])}</code> · replay with '
        f"<code>harness replay {escape(way['trace'])}</code></p>\n</section>"
    )


def _none_section(summary: dict) -> str:
    headline, *details = statement.none_found(summary)
    assumptions = summary.get("assumptions", [])
    listed = "".join(f"<li>{escape(a)}</li>\n" for a in assumptions)
    return (
        '<h2 id="none">No way past</h2>\n'
        f'<p class="banner">{escape(headline[0].upper() + headline[1:])}</p>\n'
        + "".join(f"<p>{escape(line)}</p>\n" for line in details)
        + (f"<p>It rests on these assumptions:</p>\n<ul>\n{listed}</ul>" if listed else "")
    )


def _space_section(summary: dict) -> str:
    rows = "".join(f"<li>{escape(line)}</li>\n" for line in statement.space_lines(summary))
    budget = summary.get("budget", {})
    spent = ", ".join(f"{k}: {v}" for k, v in budget.items() if v is not None) or "none"
    return (
        f'<h2 id="space">What was searched</h2>\n<ul>\n{rows}'
        f"<li>longest sequence: {summary['space']['depth']} moves; budget: "
        f"{escape(spent)}</li>\n</ul>"
    )


def _experiment_section(folder: RunFolder) -> str:
    path = folder.path / "experiment.toml"
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    return (
        '<h2 id="experiment">Resolved experiment</h2>\n<details><summary>experiment.toml'
        f"</summary>\n<pre>{escape(text)}</pre></details>"
    )


def _method(summary: dict) -> str:
    return (
        '<h2 id="method">Method</h2>\n<ul>\n'
        "<li>A way past is a sequence of operator moves, waits and dependency faults after "
        "which a protected account is down, or a safeguard is bypassed another way (see "
        "each finding). Each replays from its trace file exactly as shown.</li>\n"
        "<li>A probability is per occurrence: the chance that this sequence of choices goes "
        "wrong once its situation arises (the product of each step's chance under the "
        "experiment's personas; faults, waits and retries count as certain). It is not a "
        "rate per shift or per report: <code>harness run --estimator importance</code> "
        "measures that.</li>\n"
        "<li>An exhaustive search's 'no way past' holds only within its bounds and under the "
        "assumptions listed with it.</li>\n</ul>"
    )
