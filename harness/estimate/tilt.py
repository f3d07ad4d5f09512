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

from .draws import MAX_SHIFT, SLIPWARD, Tilt, family, shifted, tilted_probability
from .weighted import Weighted

INITIAL_SHIFT = 2.0  # odds times 7.4 toward the slip before anything is known
STEP = 2.0  # how much further each pilot round without enough slips goes
SMOOTHING = 0.7  # share of the new shift in the next (damps a small pilot's noise)
MIN_ELITE = 10  # slipping pilot replications needed to learn from
CONVERGED = 0.3  # largest change of a shift at which tuning stops


def initial_tilt(untilted: Sequence[Weighted] = ()) -> Tilt:
    """A first guess from untilted replications: each kind they drew, shifted so that one
    of its draws a shift is expected to go the slip's way (or as near as the cap allows);
    kinds they never drew (those behind a safeguard) get `INITIAL_SHIFT`."""
    rows: dict[str, list[float]] = defaultdict(list)
    for r in untilted:
        for kind, p, _ in r.draws or ():
            if 0.0 < p < 1.0:
                rows[kind].append(p)
    shifts = {kind: _one_a_shift(kind, ps, len(untilted)) for kind, ps in rows.items()}
    return Tilt(shifts, INITIAL_SHIFT)


def _one_a_shift(kind: str, ps: list[float], shifts: int) -> float:
    """The shift at which draws of `kind` with these probabilities, made over `shifts`
    shifts, are expected to go the slip's way once a shift (bisection: it is monotone)."""
    sign = _sign(kind)

    def expected(size: float) -> float:
        qs = (tilted_probability(p, sign * size) for p in ps)
        return sum(q if sign > 0 else 1.0 - q for q in qs) / shifts

    if expected(0.0) >= 1.0:
        return 0.0
    low, high = 0.0, MAX_SHIFT
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if expected(middle) < 1.0 else (low, middle)
    return sign * high


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
    """Each kind's draws in the slipping replications as (weight x slips, p, yes), the
    weights scaled so the largest is 1."""
    elite = [r for r in pilot if r.slips and r.draws]
    if not elite:
        return {}
    top = max(r.log_weight + math.log(r.slips) for r in elite)
    rows: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    for r in elite:
        value = math.exp(r.log_weight + math.log(r.slips) - top)
        for kind, p, yes in r.draws or ():
            if 0.0 < p < 1.0 and family(kind):
                rows[kind].append((value, p, yes))
    return rows


def _solve(draws: list[tuple[float, float, bool]], start: float, kind: str) -> float:
    """The shift maximising sum v [x log q + (1 - x) log(1 - q)] over the draws, q being
    each draw's tilted probability, by Newton's method (capped draws do not move)."""
    shift = start
    for _ in range(50):
        gradient = curvature = 0.0
        for v, p, yes in draws:
            q = shifted(p, shift)
            if q != tilted_probability(p, shift):
                continue  # at the cap
            gradient += v * (yes - q)
            curvature += v * q * (1.0 - q)
        if curvature < 1e-12:  # every draw capped, or all one way: go as far as allowed
            return _clamp(kind, shift + math.copysign(MAX_SHIFT, gradient)) if gradient else shift
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
