"""The writers' catalogue (what --to and `csvbridge formats` know without importing a writer
module) must say exactly what the writer modules declare, and lookups must give their targets."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from csvbridge import writers
from csvbridge.errors import TargetError
from csvbridge.writers import CATALOGUE, TARGETS, Listed, resolve_target


def test_catalogue_equals_what_the_writer_modules_declare() -> None:
    declared: dict[str, Listed] = {}
    for info in pkgutil.iter_modules(writers.__path__):
        module = importlib.import_module(f"csvbridge.writers.{info.name}")
        for t in getattr(module, "TARGETS", []):
            assert t.name not in declared, f"two modules declare {t.name}"
            declared[t.name] = Listed(t.name, info.name, t.kinds, t.family, t.title)
    assert declared == CATALOGUE, "update _LISTED in csvbridge/writers/__init__.py"


def test_catalogue_is_in_name_order_like_the_targets() -> None:
    assert list(CATALOGUE) == sorted(CATALOGUE) == list(TARGETS)
    assert len(TARGETS) == len(CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_lookup_gives_the_declared_target(name: str) -> None:
    module = importlib.import_module(f"csvbridge.writers.{CATALOGUE[name].module}")
    assert [t for t in module.TARGETS if t.name == name] == [TARGETS[name]]
    assert name in TARGETS


def test_unknown_names_are_not_targets() -> None:
    assert "sage" not in TARGETS and 1 not in TARGETS
    assert TARGETS.get("sage") is None
    with pytest.raises(KeyError):
        TARGETS["nosuch"]


def test_resolve_target_by_family_and_kind() -> None:
    assert resolve_target("QBO", "transaction").name == "qbo-bank"
    assert resolve_target("ledger", "journal").name == "hledger"
    with pytest.raises(TargetError, match="unknown target 'qbo' for contact records"):
        resolve_target("qbo", "contact")  # two qbo targets take contacts
