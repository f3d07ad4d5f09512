"""Adversarial search: the shortest sequence of operator actions, waits and faults that
gets past an experiment's safeguards (`harness explore`), and its replay (`harness replay`).

- `moves`: what a search can make happen, at the level a person narrates it;
- `behaviour`: who may make which move, and which moves count as honest mistakes;
- `space`: the moves of one experiment, as Hypothesis strategies;
- `control`: what a search needs from a target beyond the operator API;
- `play`: playing moves against a fresh target and reading the outcome;
- `findings`: what counts as a way past, from answers, audit log and account status;
- `search`: Hypothesis generating, playing and shrinking sequences;
- `narrate`: a trace as numbered steps; `trace`: the replayable file;
- `runs`: an explore run and a replay, composed from the parts;
- `state`, `exhaustive`, `likelihood`, `bounded`: every sequence up to a bound, breadth
  first (a shortest way past or a bounded proof) or by probability (the most likely ways
  past), and their runs.
"""
