"""Personas are one module each: the registry, the experiment's union of entries and the
list of names come from the modules, so none can lack an entry, a behaviour, a documented
default or a row in the documentation's table of personas (docs/personas.md), and an experiment
naming any persona runs."""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
import typing

import pytest
from conftest import ROOT, small

import harness.personas as personas
from harness.drivers.sim import simulate
from harness.experiment.model import Experiment
from harness.personas.base import REGISTERED, OperatorEntry, Persona
from harness.world.environment import Environment

MODULES = [m.name for m in pkgutil.iter_modules(personas.__path__) if m.name not in personas.SHARED]


def documented_personas() -> list[str]:
    """The persona column of the documentation's table of personas and their defaults."""
    text = (ROOT / "docs" / "personas.md").read_text(encoding="utf-8")
    table = text.split("## Personas and where their defaults come from", 1)[1]
    table = table.split("\n\n", 2)[1]
    return re.findall(r"^\| (\w+) \|", table, flags=re.MULTILINE)[1:]  # after the header


def test_every_module_is_one_registered_persona_with_an_entry_and_a_behaviour():
    assert sorted(MODULES) == sorted(personas.PERSONAS)
    for kind in personas.KINDS:
        assert kind.module == f"harness.personas.{kind.name}"
        assert issubclass(kind.entry, OperatorEntry) and kind.entry is not OperatorEntry
        assert issubclass(kind.behaviour, Persona) and kind.behaviour is not Persona
        assert typing.get_args(kind.entry.model_fields["persona"].annotation) == (kind.name,)
    assert len({kind.rank for kind in personas.KINDS}) == len(personas.KINDS)


def test_the_experiment_accepts_exactly_the_registered_personas_in_their_order():
    (entry,) = typing.get_args(Experiment.model_fields["operators"].annotation)
    union, _discriminator = typing.get_args(entry)
    assert typing.get_args(union) == tuple(kind.entry for kind in personas.KINDS)
    assert tuple(kind.name for kind in personas.KINDS) == personas.PERSONAS
    assert [kind.rank for kind in personas.KINDS] == sorted(kind.rank for kind in personas.KINDS)


def test_every_persona_has_a_documented_row_in_the_registry_order():
    assert documented_personas() == list(personas.PERSONAS)


@pytest.mark.parametrize("name", personas.PERSONAS)
def test_every_key_of_a_persona_says_what_it_is_or_where_its_default_comes_from(name):
    entry = personas.REGISTRY[name].entry
    undocumented = [
        key
        for key, field in entry.model_fields.items()
        if key != "persona" and not (field.description or "").strip()
    ]
    assert not undocumented, f"{name}: keys without a description: {undocumented}"


@pytest.mark.parametrize("name", personas.PERSONAS)
def test_an_experiment_naming_any_persona_runs(name):
    experiment = small(operators__0__persona=name, experiment__replications=1)
    env = Environment.build(experiment)
    behaviour = personas.operator_persona(env.roster[0], env.seed)
    assert type(behaviour) is personas.REGISTRY[name].behaviour
    history = simulate(env, 0)
    assert any(op[1] == env.roster[0].id for op in history.ops)


@pytest.fixture
def scratch_package(tmp_path, monkeypatch):
    """The personas package searched in an empty folder, its registry restored after."""
    monkeypatch.setattr(personas, "__path__", [str(tmp_path)])
    registered = list(REGISTERED)
    yield tmp_path
    REGISTERED[:] = registered
    for module in [m for m in sys.modules if m.startswith("harness.personas.scratch")]:
        del sys.modules[module]


def test_a_persona_module_without_a_behaviour_is_refused(scratch_package):
    """An entry alone used to validate and then fail the run with a KeyError."""
    (scratch_package / "scratch_entry_only.py").write_text(
        "from typing import Literal\n"
        "from harness.personas.base import OperatorEntry\n"
        "class EntryOnly(OperatorEntry):\n"
        "    persona: Literal['scratch_entry_only']\n",
        encoding="utf-8",
    )
    importlib.invalidate_caches()
    with pytest.raises(ImportError, match="must register one persona named 'scratch_entry_only'"):
        personas._discover()


def test_a_persona_module_registering_another_name_is_refused(scratch_package):
    (scratch_package / "scratch_misnamed.py").write_text(
        "from typing import Literal\n"
        "from harness.personas.base import Judging, JudgingPersona, register\n"
        "class Other(Judging):\n"
        "    persona: Literal['other']\n"
        "@register(Other, rank=99)\n"
        "class OtherPersona(JudgingPersona):\n"
        "    pass\n",
        encoding="utf-8",
    )
    importlib.invalidate_caches()
    with pytest.raises(ImportError, match=r"registers \['other'\]"):
        personas._discover()
