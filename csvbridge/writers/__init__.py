"""Writers: one canonical kind to one target format. ``TARGETS`` is keyed by the word users
type after ``--to``; each writer module declares its own targets in its ``TARGETS`` list.

``CATALOGUE`` lists every target with its module and what ``--to`` and ``csvbridge formats``
need to know, so that a run imports only the writer modules of its own targets (xlsxwriter,
Parquet and the archive's schema are not loaded to write a bank CSV). A new target goes in
both places: tests/test_writers_catalogue.py fails until they agree."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from ..errors import TargetError
from .base import CsvSink, CsvWriter, Option, OutputFile, Target, WriteContext, Writer

_ALL = ("transaction", "invoice", "bill", "journal", "contact", "account", "item")


class Listed(NamedTuple):
    """A target as the catalogue lists it: its writer module and what --to and the formats
    listing need without importing that module."""

    name: str
    module: str  # in this package
    kinds: tuple[str, ...]
    family: str
    title: str


_LISTED = (
    Listed("archive", "archive", _ALL, "", "Frictionless Data Package (archive folder)"),
    Listed("beancount", "plaintext", ("transaction", "journal"), "", "beancount ledger"),
    Listed("csv", "generic", _ALL, "", "Canonical CSV"),
    Listed(
        "hledger",
        "plaintext",
        ("transaction", "journal"),
        "ledger",
        "hledger / ledger-cli journal",
    ),
    Listed(
        "iif",
        "iif",
        ("transaction", "journal", "invoice"),
        "iif",
        "QuickBooks Desktop IIF transactions",
    ),
    Listed(
        "iif-accounts", "iif_lists", ("account",), "iif", "QuickBooks Desktop IIF chart of accounts"
    ),
    Listed(
        "iif-customers", "iif_lists", ("contact",), "iif", "QuickBooks Desktop IIF customer list"
    ),
    Listed("iif-vendors", "iif_lists", ("contact",), "iif", "QuickBooks Desktop IIF vendor list"),
    Listed("jsonl", "tabular", _ALL, "", "JSON Lines"),
    Listed("ofx", "ofx", ("transaction",), "", "OFX 1.0.2 bank statement (SGML)"),
    Listed("ofx2", "ofx", ("transaction",), "", "OFX 2.2 bank statement (XML)"),
    Listed("parquet", "tabular", _ALL, "", "Apache Parquet, typed columns"),
    Listed(
        "qbo-accounts",
        "qbo_lists",
        ("account",),
        "qbo",
        "QuickBooks Online chart of accounts (Import data CSV)",
    ),
    Listed(
        "qbo-bank",
        "bank",
        ("transaction",),
        "qbo",
        "QuickBooks Online bank transactions (3-column CSV)",
    ),
    Listed(
        "qbo-bank4",
        "bank",
        ("transaction",),
        "",
        "QuickBooks Online bank transactions (4-column CSV: Credit, Debit)",
    ),
    Listed(
        "qbo-customers",
        "qbo_lists",
        ("contact",),
        "qbo",
        "QuickBooks Online customers (Import data CSV)",
    ),
    Listed(
        "qbo-invoices", "qbo", ("invoice",), "qbo", "QuickBooks Online invoices (Import data CSV)"
    ),
    Listed(
        "qbo-items",
        "qbo_lists",
        ("item",),
        "qbo",
        "QuickBooks Online products and services (Import data CSV)",
    ),
    Listed(
        "qbo-journals",
        "qbo",
        ("journal",),
        "qbo",
        "QuickBooks Online journal entries (Import data CSV)",
    ),
    Listed(
        "qbo-vendors",
        "qbo_lists",
        ("contact",),
        "qbo",
        "QuickBooks Online vendors (Import data CSV)",
    ),
    Listed("qbo-webconnect", "ofx", ("transaction",), "", "QuickBooks Web Connect (.qbo)"),
    Listed(
        "sage-contacts",
        "sage_contacts",
        ("contact",),
        "sage",
        "Sage Accounting (Business Cloud) customers or suppliers (CSV)",
    ),
    Listed(
        "sage50",
        "sage",
        ("invoice", "bill", "transaction", "journal"),
        "sage",
        "Sage 50 Accounts (UK/IE) audit-trail transactions (CSV)",
    ),
    Listed("xero-bank", "bank", ("transaction",), "xero", "Xero bank statement (CSV)"),
    Listed("xero-bills", "xero", ("bill",), "xero", "Xero bills (CSV)"),
    Listed("xero-contacts", "xero_contacts", ("contact",), "xero", "Xero contacts (CSV)"),
    Listed("xero-invoices", "xero", ("invoice",), "xero", "Xero sales invoices (CSV)"),
    Listed("xero-journals", "xero", ("journal",), "xero", "Xero manual journals (CSV)"),
    Listed("xlsx", "tabular", _ALL, "", "Excel workbook, typed cells"),
)

CATALOGUE: dict[str, Listed] = {t.name: t for t in sorted(_LISTED)}


class _Targets(Mapping[str, Target]):
    """Target name -> Target, in name order; a writer module is imported when one of its
    targets is first looked up. Membership, names and length come from ``CATALOGUE``."""

    def __init__(self) -> None:
        self._loaded: dict[str, Target] = {}

    def __getitem__(self, name: str) -> Target:
        found = self._loaded.get(name)
        if found is None:
            listed = CATALOGUE[name]  # KeyError for a name that is no target
            module = importlib.import_module(f"{__name__}.{listed.module}")
            for t in getattr(module, "TARGETS", []):
                self._loaded.setdefault(t.name, t)
            found = self._loaded.get(name)
            if found is None:
                raise RuntimeError(f"{module.__name__} does not declare the target {name!r}")
        return found

    def __contains__(self, name: object) -> bool:
        return name in CATALOGUE

    def __iter__(self) -> Iterator[str]:
        return iter(CATALOGUE)

    def __len__(self) -> int:
        return len(CATALOGUE)


TARGETS: Mapping[str, Target] = _Targets()


__all__ = [
    "CATALOGUE",
    "TARGETS",
    "CsvSink",
    "CsvWriter",
    "Listed",
    "Option",
    "OutputFile",
    "Target",
    "WriteContext",
    "Writer",
    "resolve_target",
]


def resolve_target(word: str, kind: str) -> Target:
    """The target a user means by ``word`` for records of ``kind``: a target name, or a
    system's family name (``qbo``, ``xero``) meaning its target for that kind."""
    name = word.strip().lower()
    family = [t for t in CATALOGUE.values() if t.family == name and kind in t.kinds]
    if name not in CATALOGUE and len(family) == 1:
        name = family[0].name
    listed = CATALOGUE.get(name)
    if listed is None:
        raise TargetError(
            f"unknown target '{word}'"
            + (f" for {kind} records" if any(t.family == name for t in CATALOGUE.values()) else ""),
            where=f"--to {word}",
            hint="targets: " + ", ".join(sorted(CATALOGUE)) + " (csvbridge formats lists them)",
            code="target-unknown",
        )
    if kind not in listed.kinds:
        takes = [t for t in sorted(CATALOGUE) if kind in CATALOGUE[t].kinds]
        raise TargetError(
            f"target {listed.name} takes {', '.join(listed.kinds)} records, and this mapping "
            f"makes {kind} records",
            where=f"--to {word}",
            hint=f"targets for {kind}: {', '.join(takes)}",
            code="target-kind",
        )
    return TARGETS[name]
