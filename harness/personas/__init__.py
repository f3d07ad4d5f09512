"""Operator personas, one module each; the registry and the experiment's union of persona
entries are derived from the modules found here.

Every module but `base` is one persona: an entry class (its keys and defaults) and a
behaviour class joined by `@register`. Adding a persona is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from .base import (
    REGISTERED,
    THERP_DEPENDENCE,
    Item,
    OperatorEntry,
    Persona,
    PersonaKind,
    Probability,
    most_lenient,
)

if TYPE_CHECKING:
    from ..world.roster import OperatorSpec

SHARED = ("base",)
"""Modules of this package that are not a persona."""


def _discover() -> tuple[PersonaKind, ...]:
    """Import every persona module; each must register exactly one persona named as the
    module is, else the package refuses to load (and every test fails)."""
    for info in pkgutil.iter_modules(__path__):
        if info.name in SHARED:
            continue
        module = f"{__name__}.{info.name}"
        importlib.import_module(module)
        names = [kind.name for kind in REGISTERED if kind.module == module]
        if names != [info.name]:
            raise ImportError(
                f"{module} must register one persona named {info.name!r} with @register "
                f"(an entry class and a behaviour class); it registers {names}"
            )
    return tuple(sorted(REGISTERED, key=lambda kind: kind.rank))


KINDS: tuple[PersonaKind, ...] = _discover()
REGISTRY: dict[str, PersonaKind] = {kind.name: kind for kind in KINDS}
PERSONAS: tuple[str, ...] = tuple(REGISTRY)
"""Persona names, as experiment files write them, in the order messages list them."""

PersonaEntry = Annotated[
    Union[tuple(kind.entry for kind in KINDS)],  # type: ignore[valid-type]  # noqa: UP007
    Field(discriminator="persona"),
]
"""An [[operators]] entry: whichever persona its `persona` key names."""


def make_persona(entry: OperatorEntry, rng: random.Random, exit_at: float | None = None) -> Persona:
    return REGISTRY[entry.persona].behaviour(entry, rng, exit_at)  # type: ignore[attr-defined]


def operator_persona(spec: OperatorSpec, seed: int | str, session: int = 0) -> Persona:
    """Operator `spec`'s persona with its own random stream under `seed` (a replication's).
    Every driver builds it here, so live mode's first session of an operator draws exactly
    what the simulator draws; further sessions get streams of their own."""
    stream = f"{seed}:operator:{spec.id}" + (f":{session}" if session else "")
    return make_persona(spec.entry, random.Random(stream), spec.record.exit_at)


__all__ = [
    "KINDS",
    "PERSONAS",
    "REGISTRY",
    "THERP_DEPENDENCE",
    "Item",
    "OperatorEntry",
    "Persona",
    "PersonaEntry",
    "PersonaKind",
    "Probability",
    "make_persona",
    "most_lenient",
    "operator_persona",
]
