"""What each command composes from the stages: a simulated run into a run folder (`run`), a
comparison of configurations into a comparison folder (`compare`) and a check run in batches
until every gate is settled (`check`)."""
