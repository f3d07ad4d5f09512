"""Rare slips, measured: importance sampling with exact likelihood ratios.

`draws` is the seam's tilted side, `tilt` tunes it by the cross-entropy method,
`weighted` turns weighted replications into estimates with intervals, `importance` runs
the stages, `report` writes and prints the result. `spec` is the `[estimate]` table.
`gates` decides gates on the weighted estimates (`harness check`, the pytest plugin) and
`comparison` compares configurations' weighted estimates (`harness compare`).
"""
