"""The one orchestrator: read → map → check → duplicates → write → report. The CLI and (later)
the watched folder call ``convert``; everything it does is recorded in the returned report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__
from .atomic import ensure_outdir, write_atomic
from .balances import BalanceChain, balance_check, stated_balances
from .dedup import DuplicateStage, load_decisions, near_settings
from .documents import DocumentSpool, check_documents
from .errors import ConservationError, InputFileError, TargetError
from .history import History, default_path
from .mapping import Columns, CompiledMapping, LoadedMapping, load_mapping
from .mapping.fields import spec_columns
from .mapping.recognise import check_layout
from .model import LINE_COL, FieldType, Kind, get_kind
from .money import NumberFormat, exponent_of
from .readers import ReadOptions, SourceInfo, file_sha256, open_source
from .reports.control import ControlTotals
from .reports.files import DuplicatesFile, RejectsFile
from .reports.ledger import Ledger, Tally, TieOut
from .reports.render_html import render_html
from .reports.render_xlsx import render_xlsx
from .writers import OutputFile, Target, Writer, resolve_target
from .writers.base import WriteContext, add_written

DEFAULT_CHUNK_ROWS = 25_000


@dataclass
class ConvertResult:
    """What a conversion did. ``report`` is exactly what report.json holds."""

    report: dict[str, Any]
    outputs: list[OutputFile]
    tie_outs: list[TieOut]
    rejected: int
    duplicates: int
    outdir: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: everything converted; 1: converted, but some rows were rejected."""
        return 1 if self.rejected else 0


def read_options(lm: LoadedMapping, cm: CompiledMapping, encoding: str | None) -> ReadOptions:
    r = lm.mapping.read
    return ReadOptions(
        encoding=encoding or r.encoding,
        delimiter=r.delimiter,
        quotechar=r.quotechar,
        header_line=r.header_line,
        no_header=r.no_header,
        column_names=tuple(r.columns),
        sheet=r.sheet,
        expected_columns=()
        if r.no_header or r.header_line or r.fixed_width
        else cm.expected_columns(),
        footer=r.footer,
        fixed_widths=tuple((c.name, c.start, c.end) for c in r.fixed_width),
    )


def _target_options(target: Target, lm: LoadedMapping, given: dict[str, str]) -> dict[str, str]:
    mine = {k.split(".", 1)[1]: v for k, v in given.items() if k.startswith(target.name + ".")}
    shared = {k: v for k, v in given.items() if "." not in k}
    names = {o.name for o in target.options}
    opts = target.resolve_options({**{k: v for k, v in shared.items() if k in names}, **mine})
    if opts.get("date_order") == "auto":
        cur = lm.mapping.fields.get("currency")
        code = (cur.value or "").upper() if cur is not None and cur.value else None
        if code is None:
            raise TargetError(
                f"{target.name} needs to know the date order of the company you import into, "
                "and the mapping's currency comes from a column",
                where=f"--to {target.name}",
                hint="add --date-order dmy (DD/MM/YYYY) or --date-order mdy (MM/DD/YYYY).",
                code="date-order-needed",
            )
        opts["date_order"] = "mdy" if code == "USD" else "dmy"
    return opts


def convert(
    inputs: Sequence[str | Path],
    mapping: str | Path | LoadedMapping,
    targets: Sequence[str],
    outdir: str | Path,
    *,
    options: dict[str, str] | None = None,
    encoding: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_chunk: Callable[[int], None] | None = None,
    history: str | Path | bool = True,
    decisions: str | Path | None = None,
) -> ConvertResult:
    """Convert ``inputs`` (one batch) with ``mapping`` into each of ``targets`` in ``outdir``.

    Writes the import file(s), ``rejects.csv``, ``duplicates.csv`` and ``report.json``, all
    atomically. ``options`` are target options (``date_order=dmy``, or per target
    ``qbo-bank.date_order=mdy``). Raises CsvbridgeError subclasses for problems a user must fix;
    row-level problems never raise, they are rejected and reported.

    ``history`` is the history database (True: the default location, False: none); records
    already imported in an earlier batch are duplicates. ``decisions`` is a person's file of
    duplicate decisions (identity, decision) that overrides the flags.
    """
    lm = mapping if isinstance(mapping, LoadedMapping) else load_mapping(mapping)
    cm = CompiledMapping(lm.mapping, str(lm.path))
    kind = cm.kind
    if not inputs:
        raise InputFileError(
            "no input files given", hint="name one or more files to convert.", code="no-input"
        )
    chosen: list[Target] = []
    for word in targets:
        t = resolve_target(word, kind.name)
        if t not in chosen:
            chosen.append(t)
    given = dict(options or {})
    _check_option_names(given, chosen)
    target_opts = {t.name: _target_options(t, lm, given) for t in chosen}
    out = ensure_outdir(Path(outdir))
    read_opts = read_options(lm, cm, encoding)
    dup_fields = tuple(lm.mapping.duplicates.fields or kind.fingerprint)
    dup_fields = tuple(f for f in dup_fields if f in lm.mapping.fields) or dup_fields
    dspec = lm.mapping.duplicates
    hold_back = dspec.policy == "skip"
    within = dspec.within_file
    if within == "auto":  # a repeated running balance marks an exported line twice
        within = "duplicate" if "balance" in dup_fields else "real"
    file_hashes = [_sha256_or_none(Path(p)) for p in inputs]
    batch_key = _batch_key(file_hashes, lm.sha256, target_opts)
    store = _open_history(history)
    same_as: list[int] = []
    if store is not None:
        store.begin()
        # The same bytes again are never re-imported: a client sending a statement twice looks
        # exactly like a re-run. What the history has seen is held back; forget undoes it.
        same_as = store.same_batch(batch_key)

    sources: list[str] = []
    infos: list[SourceInfo] = []
    reconciliation: list[dict[str, Any]] = []
    check_warnings: dict[str, dict[str, Any]] = {}
    doc_warnings: dict[str, list[str]] = {}
    incomplete: set[str] = set()
    ledger = Ledger(unit="records" if lm.mapping.split else "rows")
    stage = DuplicateStage(
        fields=dup_fields,
        hold_back=hold_back,
        count_occurrences=within == "real",
        sources=sources,
        history=store,
        decisions=load_decisions(Path(decisions)) if decisions else {},
        near=near_settings(lm.mapping),
    )
    control = ControlTotals(sources, kind.amount_field)
    writers: dict[str, Writer] = {}
    rejects = RejectsFile(out, sources)
    dups = DuplicatesFile(out, kind, sources)
    spool = DocumentSpool(kind.document_key, kind.arrow_schema()) if kind.document_key else None
    committed = False
    try:

        def target_reject(
            target: str, records: pa.Table, fld: str, rule: str, message: str
        ) -> None:
            rejects.add_records(target, records, kind, fld, rule, message)
            ledger.rejected_by_rule[rule] += records.num_rows

        for t in chosen:
            ctx = WriteContext(out, kind, target_opts[t.name], sources, t.name, target_reject)
            writers[t.name] = t.factory(ctx)
        row_offset = 0
        for i, path in enumerate(inputs):
            with ExitStack() as stack:
                finder = open_source(Path(path), i, read_opts, stack)
                info = finder.info
                sources.append(info.name)
                infos.append(info)
                stage.start_file()
                if store is not None:
                    seen = store.inputs_seen(info.sha256)
                    if seen and not same_as:
                        info.warnings.append(
                            "this file (same bytes) was already converted in batch "
                            + ", ".join(map(str, seen))
                            + ": its records are duplicates of that batch's"
                        )
                columns = Columns(info.columns, info.name, str(lm.path))
                check_layout(lm, info.columns, info.name)
                check_columns(cm, columns)
                read_here = Tally()
                chain = _balance_chain(lm)
                for chunk in finder.chunks(chunk_rows):
                    result = cm.apply(chunk, columns, row_offset)
                    row_offset += chunk.num_rows
                    ledger.merge(result.ledger)
                    read_here.merge(result.ledger.stages["read"])
                    for rule, at in result.warnings:
                        tally = check_warnings.setdefault(rule, {"rows": 0, "first": []})
                        tally["rows"] += len(at)
                        room = 20 - len(tally["first"])
                        tally["first"] += [{"file": info.name, "line": ln} for ln in at[:room]]
                    rejects.add(result.rejects)
                    incomplete |= result.rejected_documents
                    records = result.records
                    if chain is not None:
                        _feed_chain(chain, records)
                    flagged, held, flags = stage.apply(records)
                    control.add(records, held)
                    if flags:
                        dups.add(records.filter(pa.array(flagged)), flags)
                        ledger.duplicates_flagged += len(flags)
                        if held.any():
                            add_written(
                                ledger.stages["duplicate"], records.filter(pa.array(held)), kind
                            )
                            records = records.filter(pa.array(~held))
                    if spool is not None:
                        spool.add(records)
                    else:
                        for w in writers.values():
                            w.write(records)
                    if on_chunk is not None:
                        on_chunk(chunk.num_rows)
                if info.rows == 0:
                    info.warnings.append("the file has a header but no data rows")
                balances = _statement_check(lm, info, read_here)
                if balances is not None:
                    reconciliation.append(balances)
                if chain is not None:
                    currency = next(iter(read_here.totals), "")
                    continuity = chain.result(info.name, currency)
                    if continuity is not None:
                        reconciliation.append(continuity)
        if spool is not None:  # documents reach writers whole, lines in source order
            docs = lm.mapping.documents
            for group in spool.groups(chunk_rows):
                group = _hold_incomplete(group, kind, incomplete, rejects, ledger)
                passed, refused, warned = check_documents(
                    group,
                    kind.name,
                    kind.document_key or "number",
                    balance=docs.balance,
                    consistent=docs.consistent,
                )
                for p in refused:
                    rejects.add_records("", p.lines, kind, p.field, p.rule, p.message)
                    ledger.rejected_by_rule[p.rule] += p.lines.num_rows
                    add_written(ledger.stages["rejected"], p.lines, kind)
                for p in warned:
                    doc_warnings.setdefault(p.rule, []).append(p.message)
                for w in writers.values():
                    w.write(passed)
        for name, w in writers.items():
            ledger.written[name] = w.tally
            ledger.target_rejected[name] = w.rejected
        tie_outs = [ledger.tie_out(t.name) for t in chosen]
        failed = [t for t in tie_outs if not t.ok]
        if failed:
            raise ConservationError(
                "the tie-out failed: " + "; ".join(p for t in failed for p in t.problems),
                where="targets " + ", ".join(t.target for t in failed),
                hint="this is a bug in csvbridge; no import file was written. Please report "
                "it with report.json.",
            )
        outputs: list[OutputFile] = []
        produced: dict[str, list[OutputFile]] = {}
        for name, w in writers.items():
            produced[name] = w.close()
            outputs += produced[name]
        committed = True
        reject_files = rejects.close()
        dup_files = dups.close()
        batch_id = None
        if store is not None:
            ident, src_idx, lines, near_keys, texts = stage.written()
            batch_id = store.record(
                batch_key=batch_key,
                mapping=(lm.mapping.name, lm.mapping.version, lm.sha256),
                inputs=[{"name": i.name, "sha256": i.sha256} for i in infos],
                outputs=[{"target": t, **f.as_dict()} for t, fs in produced.items() for f in fs],
                identities=ident,
                sources=sources,
                source_idx=src_idx,
                lines=lines,
                near_keys=near_keys,
                texts=texts,
            )
    finally:
        if not committed:
            for w in writers.values():
                w.abort()
            dups.abort()
            if store is not None:
                store.close()  # rolls the history back: nothing of this run is kept
    try:
        report = _report(
            lm,
            infos,
            chosen,
            target_opts,
            produced,
            reject_files,
            dup_files,
            ledger,
            tie_outs,
            rejects,
            dups,
            dup_fields,
            hold_back,
        )
        report["reconciliation"] = reconciliation
        if doc_warnings:
            report["document_warnings"] = {k: v[:50] for k, v in sorted(doc_warnings.items())}
        rules = {c.name: c.rule for c in lm.mapping.checks}
        report["check_warnings"] = {
            name: {"rule": rules.get(name, "value not in the lookup table"), **tally}
            for name, tally in sorted(check_warnings.items())
            if tally["rows"]
        }
        report["duplicates"]["against_history"] = stage.against_history
        report["duplicates"]["decisions_applied"] = stage.overridden
        report["duplicates"]["within_file"] = within
        report["duplicates"]["possible"] = stage.possible_report()
        report["control_totals"] = control.as_list()
        report["history"] = {"batch": batch_id} if batch_id is not None else None
        write_atomic(out / "report.json", _json(report))
        write_atomic(out / "report.html", render_html(report, out))
        write_atomic(out / "report.xlsx", render_xlsx(report, out))
        if store is not None:
            store.finish()  # the history records the batch once its outputs and reports exist
    finally:
        if store is not None:
            store.close()
    warnings = [f"{i.name}: {w}" for i in infos for w in i.warnings]
    if same_as:
        b = same_as[-1]
        warnings.append(
            f"these files were converted with this mapping before, in batch {b}: their records "
            f"are held back as duplicates. If batch {b} was never imported, run "
            f"csvbridge forget {b} and convert again"
        )
    return ConvertResult(
        report=report,
        outputs=outputs + reject_files + dup_files,
        tie_outs=tie_outs,
        rejected=rejects.count,
        duplicates=dups.count,
        outdir=out,
        warnings=warnings,
    )


def _sha256_or_none(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError:
        return ""  # reported properly when the file is opened


def _batch_key(hashes: list[str], mapping_sha: str, target_opts: dict[str, dict[str, str]]) -> str:
    """Same inputs, mapping and targets: the same batch (a re-run replaces it)."""
    blob = json.dumps([hashes, mapping_sha, target_opts], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _open_history(history: str | Path | bool) -> History | None:
    if history is False:
        return None
    return History(default_path() if history is True else Path(history))


def _hold_incomplete(
    group: pa.Table, kind: Kind, incomplete: set[str], rejects: RejectsFile, ledger: Ledger
) -> pa.Table:
    """Lines of documents some of whose lines were rejected are held back as well: a partial
    invoice or journal entry is never imported."""
    key = kind.document_key
    if not incomplete or key is None:
        return group
    docs = pc.fill_null(group.column(key).combine_chunks(), "")
    hit = pc.is_in(docs, value_set=pa.array(sorted(incomplete), pa.string()))
    if not pc.any(hit).as_py():
        return group
    held = group.filter(hit)
    message = (
        f"another line of this {kind.name} was rejected (see rejects.csv); its other lines "
        f"are held back so that no partial {kind.name} is imported"
    )
    rejects.add_records("", held, kind, key, "document-incomplete", message)
    ledger.rejected_by_rule["document-incomplete"] += held.num_rows
    add_written(ledger.stages["rejected"], held, kind)
    return group.filter(pc.invert(hit))


def _balance_chain(lm: LoadedMapping) -> BalanceChain | None:
    """A continuity check for transaction files that map a running balance (one currency)."""
    m = lm.mapping
    if m.kind != "transaction" or "balance" not in m.fields or m.split:
        return None
    cur = m.fields.get("currency")
    code = cur.value.upper() if cur is not None and cur.value else None
    if code is None:
        return None  # the balance of a multi-currency file has no single chain
    amount = m.fields["amount"]
    return BalanceChain(exponent_of(code) or 2, -1 if amount.invert else 1)


def _feed_chain(chain: BalanceChain, records: pa.Table) -> None:
    amount = records.column("amount").combine_chunks()
    balance = records.column("balance").combine_chunks()
    both = pc.and_(amount.is_valid(), balance.is_valid())
    chain.feed(
        np.asarray(pc.filter(records.column(LINE_COL).combine_chunks(), both), dtype=np.int64),
        np.asarray(pc.filter(amount, both), dtype=np.int64),
        np.asarray(pc.filter(balance, both), dtype=np.int64),
    )


def _statement_check(lm: LoadedMapping, info: SourceInfo, read: Tally) -> dict[str, Any] | None:
    """Opening + Σ amounts = closing, for a statement that states both (transactions only)."""
    m = lm.mapping
    amount = m.fields.get("amount")
    if m.kind != "transaction" or amount is None or len(read.totals) > 1:
        return None
    cur = m.fields.get("currency")
    currency = next(iter(read.totals), None) or (cur.value.upper() if cur and cur.value else None)
    if currency is None:
        return None
    fmt = NumberFormat(m.numbers.decimal, m.numbers.thousands or None)
    found = stated_balances(info, fmt, currency)
    # An inverted amount (a card statement) means the file's balances are in its own sign.
    sign = -1 if amount.invert else 1
    totals = {c: sign * v for c, v in read.totals.items()}
    return balance_check(info.name, found, totals, read.unknown, currency)


def _check_option_names(given: dict[str, str], chosen: list[Target]) -> None:
    """Every option must mean something to a chosen target: a typo is an error, not a no-op."""
    for key, value in given.items():
        tname, _, opt = key.rpartition(".")
        targets = [t for t in chosen if t.name == tname] if tname else chosen
        if tname and not targets:
            raise TargetError(
                f"option {key} is for target {tname}, which this run does not write",
                where=f"-O {key}={value}",
                hint="targets of this run: " + ", ".join(t.name for t in chosen),
                code="option-unknown",
            )
        if not any(opt in {o.name for o in t.options} for t in targets):
            names = sorted({o.name for t in targets for o in t.options})
            raise TargetError(
                f"no target of this run has an option '{opt}'",
                where=f"-O {key}={value}",
                hint="options: " + (", ".join(names) or "none") + ". See: csvbridge formats NAME",
                code="option-unknown",
            )


def check_columns(cm: CompiledMapping, columns: Columns) -> None:
    """Resolve every column the mapping names before any row is read, so a missing column is
    one clear error rather than a rejected row per line."""
    for _, fields in cm.entries():
        for key, _, spec in fields:
            for ref in spec_columns(spec):
                columns.resolve(ref, key)
    for i, f in enumerate(cm.mapping.filters, start=1):
        if f.column is not None:
            columns.resolve(f.column, f"filters[{i}].column")
    for formula in cm.formulas.all():
        for name in sorted(formula.expr.columns()):
            columns.resolve(name, formula.key)


def _report(
    lm: LoadedMapping,
    infos: list[SourceInfo],
    chosen: list[Target],
    target_opts: dict[str, dict[str, str]],
    produced: dict[str, list[OutputFile]],
    reject_files: list[OutputFile],
    dup_files: list[OutputFile],
    ledger: Ledger,
    tie_outs: list[TieOut],
    rejects: RejectsFile,
    dups: DuplicatesFile,
    dup_fields: tuple[str, ...],
    hold_back: bool,
) -> dict[str, Any]:
    m = lm.mapping
    kind = m.kind
    date_fields = [n for n in m.fields if get_kind(kind).field(n).type is FieldType.DATE]
    return {
        "csvbridge": __version__,
        "mapping": {
            "name": m.name,
            "version": m.version,
            "kind": kind,
            "file": lm.path.name,
            "sha256": lm.sha256,
            "date_formats": {n: m.fields[n].format or m.dates for n in date_fields},
        },
        "inputs": [i.as_dict() for i in infos],
        "targets": [
            {
                "name": t.name,
                "options": target_opts[t.name],
                "files": [f.as_dict() for f in produced.get(t.name, [])],
            }
            for t in chosen
        ],
        "ledger": ledger.as_dict(),
        "tie_out": [t.as_dict() for t in tie_outs],
        "rejects": {
            "rows": rejects.count,
            "by_rule": dict(sorted(ledger.rejected_by_rule.items())),
            "files": [f.as_dict() for f in reject_files],
            "first": rejects.sample,
        },
        "duplicates": {
            "policy": "skip" if hold_back else "keep",
            "fields": list(dup_fields),
            "flagged": dups.count,
            "held_back": dups.held_back,
            "files": [f.as_dict() for f in dup_files],
            "first": dups.sample,
        },
    }


def _json(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()
