"""The names of a run folder's files, in one place for the writers and the readers."""

EXPERIMENT = "experiment.toml"  # the resolved experiment (every default filled in)
MANIFEST = "manifest.json"  # version, seed, git revision, Python, command, status
SUMMARY = "summary.json"  # pooled metrics with 95% intervals, gates, fault schedule
REPLICATIONS = "replications.csv"  # one row per replication
OUTAGES = "outages.csv"  # one row per protected-account outage: when, how long
HISTORIES = "histories"  # replication-NNNN.jsonl: full histories of the first replications
WEIGHTED = "weighted.csv"  # an importance-sampling run: each replication's stage and weight
FINISHED = "finished.pickle"  # finished replications' metrics, exactly, for --resume
TREND = "trend.jsonl"  # a check with --history: the gate history it charts, this run last
