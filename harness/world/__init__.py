"""The world a run happens in, built once per experiment: the seeded population
(`population`), the operators with their credentials (`roster`) and the `Environment` that
composes a run from them (`environment`)."""
