"""Run folders: everything a run produced, written as it goes and read back in one way.

results/<experiment>-<timestamp>/
  experiment.toml      the resolved experiment (every default filled in)
  manifest.json        version, seed, git revision, Python, command, status
  summary.json         pooled metrics with 95% intervals, gates, fault schedule
  replications.csv     one row per replication (columns: `metrics.REPLICATION_COLUMNS`)
  outages.csv          one row per protected-account outage: when it began, how long it lasted
  histories/replication-NNNN.jsonl   full histories of the first replications
  finished.pickle      finished replications' metrics, exactly, for `--resume`

`folder` writes and reads the files, `record` writes a run as it goes, `read` reads runs
back for comparisons, reports and baselines, and `pairing` says when two runs compare.
"""

from .folder import RunFolder, manifest
from .pairing import Difference, RunFacts, pairing_difference, scenario_difference
from .read import RunData, check_comparable, name_runs, read_replications, read_run, require
from .record import OUTAGE_COLUMNS, RunRecorder, outage_rows

__all__ = [
    "OUTAGE_COLUMNS",
    "Difference",
    "RunData",
    "RunFacts",
    "RunFolder",
    "RunRecorder",
    "check_comparable",
    "manifest",
    "name_runs",
    "outage_rows",
    "pairing_difference",
    "read_replications",
    "read_run",
    "require",
    "scenario_difference",
]
