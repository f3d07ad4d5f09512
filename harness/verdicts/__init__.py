"""Verdicts on measured runs: gates on metrics (`gates`), when a check in batches may stop
(`sequential`), a run against an earlier run of the same experiment (`against_baseline`),
configurations against the baseline configuration (`between_configurations`) and the JUnit
XML that carries them into CI (`junit`)."""
