"""The running target behind the HTTP API: the core, its store, its clock and its chaos.

The core is a single-writer object; every call from a request handler, the timer ticker or
an admin endpoint goes through `call` (or another method here) under one lock, so
concurrent requests take effect one at a time and a reset never races a request.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .. import snapshot
from ..clock import MAX_TIME_SCALE, Clock, ManualClock, ScaledClock
from ..errors import Conflict, Unavailable
from ..model import Outcome
from ..service import ReplayError
from ..spec import ServiceSpec
from ..store import Saved, Store, StoreError, with_tokens
from .credentials import Credentials

T = TypeVar("T")
MAX_TICK = 0.5  # wall seconds between timer checks when nothing is due sooner
SNAPSHOT_EVERY = 10_000  # journaled commands between snapshots: what a restart replays


@dataclass
class Chaos:
    """Faults of the HTTP service itself (the core's faults are `set_fault` commands)."""

    latency: float = 0.0  # wall seconds added before each operator request is handled
    error_share: float = 0.0  # share of operator requests answered 503 after being handled
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def clear(self) -> None:
        self.latency = self.error_share = 0.0


class ServedTarget:
    """Build with `open`: it resumes what a durable store holds or starts afresh."""

    def __init__(
        self,
        spec: ServiceSpec,
        store: Store,
        clock: Clock,
        admin_token: str | None,
        name: str,
        label: str | None,
        saved: Saved | None = None,
    ) -> None:
        self.credentials = _credentials(store, admin_token, saved)
        if self.credentials is not None:
            spec = self.credentials.apply(spec)
            admin_token = self.credentials.admin_token
        self.spec = spec
        self.store = store
        self.clock = clock
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.name = name
        self.label = label
        self.chaos = Chaos()
        self.lock = threading.RLock()
        self.failure: str | None = None  # why the service stopped answering, if it did
        store.use_tokens(spec.operators)
        self.service = spec.build(clock, store.journal)
        self.covered = 0 if saved is None else saved.covered
        self.replayed = 0 if saved is None else self._resume(saved)
        self.service.run_due()

    @classmethod
    def open(
        cls,
        store: Store,
        make_spec: Callable[[], ServiceSpec],
        *,
        time_scale: float = 1.0,
        admin_token: str | None = None,
        name: str = "moderation",
        label: str | None = None,
    ) -> ServedTarget:
        """Resume the service `store` holds, or start one called `name` from `make_spec()`.

        `label` stands for the settings the service is built from; resuming a store built
        from other settings is refused rather than silently serving old state. With no
        label, whatever the store holds is resumed.
        """
        if not 0 <= time_scale <= MAX_TIME_SCALE:
            raise ValueError(
                f"time scale must be 0 (the clock moves only when told) to {MAX_TIME_SCALE:g}"
            )
        saved = store.load()
        if saved is None:
            served = cls(
                make_spec(),
                store,
                _fresh_clock(time_scale),
                admin_token or secrets.token_urlsafe(24),
                name,
                label,
            )
            served._save_fresh()
            return served
        held = saved.meta.get("label")
        if label is not None and held != label:
            raise StoreError(
                f"{store.describe()} holds a service built from other settings; serve it "
                "without an experiment file to resume it, or use another store"
            )
        last_at = saved.entries[-1][0] if saved.entries else 0.0
        clock = _resumed_clock(saved.meta.get("clock", {}), last_at, time_scale)
        served = cls(
            saved.spec, store, clock, admin_token, saved.meta.get("name", name), held, saved
        )
        store.set_meta("clock", served.clock_state())
        return served

    # --- calls into the core -------------------------------------------------------------

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one core method (`ModerationService.decide`, ...) on the current service,
        after firing the timers due by now so that reads see them too.

        Fail-stop: if the store cannot journal a command, the core's memory already holds
        its effect but the journal does not, so the service answers nothing more (503) until
        it is restarted, which rebuilds exactly the acknowledged state from the journal."""
        with self.lock:
            if self.failure is not None:
                raise Unavailable(self.failure)
            service = self.service
            try:
                service.run_due()
                answer = method(service, *args, **kwargs)
                if self.store.uncompacted >= SNAPSHOT_EVERY:
                    self.store.compact(snapshot.dump(service))
                return answer
            except StoreError as exc:
                self.failure = f"{exc}; restart the service to recover from its journal"
                raise Unavailable(self.failure) from None

    def tick(self) -> float:
        """Fire due timers; returns how many wall seconds to wait before the next tick."""
        with self.lock:
            if self.failure is not None:
                return MAX_TICK
            self.service.run_due()
            due = self.service.next_due()
            if due is None or not self.scale:
                return MAX_TICK
            return min(MAX_TICK, max(0.001, (due - self.clock.now()) / self.scale))

    # --- admin -----------------------------------------------------------------------------

    @property
    def manual(self) -> bool:
        return isinstance(self.clock, ManualClock)

    def advance(self, to: float) -> Sequence[Outcome]:
        """Manual-clock mode only: move the clock to `to`, firing timers on the way."""
        with self.lock:
            if not self.manual:
                raise Conflict(
                    "the clock runs by itself (time scale "
                    f"{self.scale:g}); it can be moved only in manual-clock "
                    "mode (--time-scale 0)"
                )
            now = self.clock.now()
            if to < now:
                raise Conflict(f"the clock is at {now:g}s; it cannot move back to {to:g}s")
            fired = self.service.advance(to)
            self.store.set_meta("clock", self.clock_state())
            return fired

    def reset(self, seed: int | str | None = None) -> None:
        """Start a fresh shift: a new service (optionally with a new seed), an empty
        journal, the clock back at zero, no faults."""
        with self.lock:
            if seed is not None:
                self.spec = self.spec.with_seed(seed)
            self.clock = _fresh_clock(self.scale)
            self.chaos.clear()
            self._save_fresh()
            self.service = self.spec.build(self.clock, self.store.journal)

    @property
    def scale(self) -> float:
        """Simulated seconds per wall second; 0 for a manual clock."""
        return self.clock.scale if isinstance(self.clock, ScaledClock) else 0.0

    def clock_state(self) -> dict[str, float]:
        clock = self.clock
        if isinstance(clock, ScaledClock):
            return {"scale": clock.scale, "origin": clock.origin, "offset": clock.offset}
        return {"scale": 0.0, "now": clock.now()}

    def _save_fresh(self) -> None:
        spec, meta = self.spec, {"name": self.name, "label": self.label}
        if self.credentials is not None:
            spec, secrets_meta = self.credentials.stored(spec)
            meta.update(secrets_meta)
        self.store.start(spec, {**meta, "clock": self.clock_state()})

    def _resume(self, saved: Saved) -> int:
        """Bring the fresh service to the stored state: the snapshot, then the journal after
        it; returns how many journal entries were replayed."""
        where = self.store.describe()
        try:
            if saved.snapshot is not None:
                snapshot.load(saved.snapshot, self.service)
            return self.service.replay(with_tokens(saved.entries, self.spec.operators))
        except KeyError as exc:
            raise StoreError(f"{where}: its journal names an unknown operator {exc}") from None
        except snapshot.SnapshotError as exc:
            raise StoreError(f"{where}: its snapshot cannot be loaded: {exc}") from None
        except ReplayError as exc:
            number = saved.covered + exc.position
            raise StoreError(
                f"{where}: journal entry {number} {exc.detail} (the journal does not belong to "
                "the service the store describes: was another server writing to it?)"
            ) from None


def _credentials(store: Store, admin_token: str | None, saved: Saved | None) -> Credentials | None:
    """A durable store's credentials (it keeps none in the clear); None for memory."""
    if not store.durable:
        return None
    if saved is None:
        return Credentials.fresh(admin_token or secrets.token_urlsafe(24))
    return Credentials.resumed(admin_token, saved.meta, store.describe())


def _fresh_clock(time_scale: float) -> Clock:
    return ScaledClock(time_scale) if time_scale > 0 else ManualClock()


def _resumed_clock(saved: dict[str, float], last_at: float, time_scale: float) -> Clock:
    """The stored clock, continued. A scaled clock keeps its origin, so the shift went on
    while the service was down; with another time scale the clock continues from where
    the stored one stands now."""
    if saved.get("scale"):
        old: Clock = ScaledClock(saved["scale"], saved["origin"], saved["offset"])
    else:
        old = ManualClock(max(saved.get("now", 0.0), last_at))
    if saved.get("scale", 0.0) == time_scale:
        return old
    now = max(old.now(), last_at)
    return ScaledClock(time_scale, offset=now) if time_scale > 0 else ManualClock(now)
