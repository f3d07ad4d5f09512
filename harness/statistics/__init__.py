"""Statistics: rates with their 95% intervals (`intervals`), replications pooled into
`summary.json` (`summary`) and when a sequential check may stop (`sequential`)."""
