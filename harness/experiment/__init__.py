"""Experiment files, the first stage: TOML read, `--set` overrides applied and every key
validated (`model`), comparison files (`comparison_file`), their JSON Schema (`schema`) and
validation messages in the project's words (`wording`)."""
