"""Tuning the tilt by the cross-entropy method (Rubinstein & Kroese 2004).

The family: one log-odds shift per kind of draw. The best member is the one closest (in
cross-entropy) to the zero-variance distribution, which draws replications in proportion
to weight times slips. Given a pilot's replications, each with its weight, slips and
draws, each kind's new shift maximises the weighted log-likelihood of that kind's draws
in the replications that slipped: a one-dimensional concave problem (a logistic
regression with an offset), solved by Newton's method. While a pilot sees too few slips
to learn from, every shift moves a fixed step further toward the slip (the multilevel
variant's rising levels, in their simplest form).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from .draws import MAX_SHIFT, SLIPWARD, Tilt, family
from .weighted import Weighted

INITIAL_SHIFT = 2.0  # odds times 7.4 toward the slip before anything is known
STEP = 2.0  # how much further each pilot round without enough slips goes
SMOOTHING = 0.7  # share of the new shift in the next (damps a small pilot's noise)
MIN_ELITE = 10  # slipping pilot replications needed to learn from
CONVERGED = 0.3  # largest change of a shift at which tuning stops


def initial_tilt() -> Tilt:
    return Tilt(default=INITIAL_SHIFT)


def escalate(tilt: Tilt) -> Tilt:
    """Every shift a step further toward the slip, within `MAX_SHIFT`."""
    shifts = {k: _clamp(k, v + STEP * _sign(k)) for k, v in tilt.shifts.items()}
    return Tilt(shifts, min(MAX_SHIFT, tilt.default + STEP))


def cross_entropy_update(pilot: Sequence[Weighted], tilt: Tilt) -> Tilt:
    """The smoothed cross-entropy update of `tilt` from a pilot run under it."""
    rows = _elite_draws(pilot)
    shifts = dict(tilt.shifts)
    for kind, draws in rows.items():
        old = tilt.shift(kind) or 0.0
        new = _solve(draws, old, kind)
        shifts[kind] = _clamp(kind, SMOOTHING * new + (1 - SMOOTHING) * old)
    return Tilt(shifts, tilt.default)


def converged(old: Tilt, new: Tilt) -> bool:
    """Whether no kind's shift moved by more than `CONVERGED`."""
    kinds = set(old.shifts) | set(new.shifts)
    return all(abs((new.shift(k) or 0.0) - (old.shift(k) or 0.0)) <= CONVERGED for k in kinds)


def _elite_draws(pilot: Sequence[Weighted]) -> dict[str, list[tuple[float, float, bool]]]:
    """Each kind's draws in the slipping replications as (weight x slips, log-odds, yes),
    the weights scaled so the largest is 1."""
    elite = [r for r in pilot if r.slips and r.draws]
    if not elite:
        return {}
    top = max(r.log_weight + math.log(r.slips) for r in elite)
    rows: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    for r in elite:
        value = math.exp(r.log_weight + math.log(r.slips) - top)
        for kind, p, yes in r.draws or ():
            if 0.0 < p < 1.0 and family(kind):
                rows[kind].append((value, math.log(p / (1.0 - p)), yes))
    return rows


def _solve(draws: list[tuple[float, float, bool]], start: float, kind: str) -> float:
    """The shift maximising sum v [x (a + s) - log(1 + e^(a + s))], by Newton's method."""
    shift = start
    for _ in range(50):
        gradient = curvature = 0.0
        for v, logit, yes in draws:
            q = 1.0 / (1.0 + math.exp(-(logit + shift))) if logit + shift > -700 else 0.0
            gradient += v * (yes - q)
            curvature += v * q * (1.0 - q)
        if curvature < 1e-12:
            return _clamp(kind, shift + math.copysign(MAX_SHIFT, gradient))
        step = max(-2.0, min(2.0, gradient / curvature))
        shift = _clamp(kind, shift + step)
        if abs(step) < 1e-6:
            break
    return shift


def _sign(kind: str) -> int:
    base = family(kind)
    return SLIPWARD[base] if base else 0


def _clamp(kind: str, shift: float) -> float:
    """Keep a shift between none and `MAX_SHIFT`, toward the slip."""
    sign = _sign(kind)
    return sign * max(0.0, min(MAX_SHIFT, sign * shift))
