"""Statistics: rates with their 95% intervals (`intervals`) and replications pooled into
`summary.json` (`summary`)."""
