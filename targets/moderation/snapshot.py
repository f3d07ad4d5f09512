"""The core's state as bytes, so that a durable store can replace the journal it covers and a
restart replays only what was journaled since, however long the service has run.

The state is pickled, but loading it is not general unpickling: only the core's own state
classes and a few standard containers can be rebuilt (a store file handed over by someone
else cannot run code), and what comes from the settings is not in the bytes at all: the
accounts, the operators (with their tokens), the safeguard and restore settings, the clock
and the journal are those of the service the state is loaded into.
"""

from __future__ import annotations

import io
import itertools
import pickle
from typing import Any

from .model import Outcome, PendingAction, Report, ReportView
from .safeguards import SAFEGUARD_NAMES, SAFEGUARDS, Safeguards
from .service import ModerationService

STATE_CLASSES = (
    Safeguards,
    *SAFEGUARDS,
    Report,
    PendingAction,
    Outcome,
    ReportView,
)  # answers: remembered
FROM_SETTINGS = frozenset(
    {
        "clock",
        "_journal",
        "_accounts",
        "_operators",
        "_by_token",
        "_approver_order",
        "restore_config",
        "chance",
    }
)
"""The service's attributes its settings (or its caller) determine: never in a snapshot."""
ALLOWED = {(cls.__module__, cls.__qualname__) for cls in STATE_CLASSES} | {
    ("collections", "deque"),
    ("random", "Random"),
    ("itertools", "count"),
}


class SnapshotError(Exception):
    """The bytes are not a snapshot this version of the service can load."""


def _settings(service: ModerationService) -> dict[Any, Any]:
    """The objects a snapshot refers to by name instead of holding them."""
    config = service.safeguards.config
    named: dict[Any, Any] = {"safeguards": config}
    named.update({("safeguard", name): getattr(config, name) for name in SAFEGUARD_NAMES})
    named.update({("operator", op.id): op for op in service._operators.values()})
    return named


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, service: ModerationService) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.names = {id(obj): name for name, obj in _settings(service).items()}

        self.tokens = {op.token: op.id for op in service._operators.values()}

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is str:  # a token (in remembered requests) is named by its operator
            op_id = self.tokens.get(obj)
            return None if op_id is None else ("token", op_id)
        return self.names.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is itertools.count:  # its own pickling is deprecated
            return itertools.count, (int(repr(obj)[len("count(") : -1]),)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, into: ModerationService) -> None:
        super().__init__(file)
        self.objects = _settings(into)
        self.objects.update({("token", op.id): op.token for op in into._operators.values()})

    def persistent_load(self, pid: Any) -> Any:
        try:
            return self.objects[pid]
        except (KeyError, TypeError):
            raise SnapshotError(f"it refers to {pid!r}, which this service has not") from None

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise SnapshotError(f"it names {module}.{name}, which a snapshot never holds")
        return super().find_class(module, name)


def dump(service: ModerationService) -> bytes:
    """The service's state, without what comes from its settings."""
    state = {k: v for k, v in vars(service).items() if k not in FROM_SETTINGS}
    out = io.BytesIO()
    _Pickler(out, service).dump(state)
    return out.getvalue()


def load(data: bytes, into: ModerationService) -> None:
    """Put `into` (a fresh service built from the same settings) in the state `data` holds."""
    try:
        state = _Unpickler(io.BytesIO(data), into).load()
    except SnapshotError:
        raise
    except Exception as exc:
        raise SnapshotError(f"it cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or not state.keys() <= vars(into).keys() - FROM_SETTINGS:
        raise SnapshotError("it does not hold a moderation service's state")
    vars(into).update(state)
