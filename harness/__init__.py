"""The harness: experiments, populations, personas, drivers, faults, history, checker,
statistics, reports, gates and the `harness` command."""

__version__ = "0.1.0"  # the only place it is written: pyproject.toml reads it from here
