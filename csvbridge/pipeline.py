"""The one orchestrator: read → map → check → duplicates → write → report. The CLI and (later)
the watched folder call ``convert``; everything it does is recorded in the returned report."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from .atomic import ensure_outdir
from .balances import balance_chain, exported_twice, feed_chain
from .chunk_prep import ChunkPrep, Prepped
from .dedup import DuplicateStage, load_decisions, near_settings
from .doc_flush import flush_documents
from .documents import DocumentSpool
from .engines import (
    Closed,
    Engine,
    Event,
    MapJob,
    Opened,
    expand_inputs,
    get_engine,
)
from .engines import check_columns as check_columns  # re-exported: callers import them here
from .engines import read_options as read_options
from .errors import InputFileError
from .history import History, default_path
from .mapping import CompiledMapping, LoadedMapping, load_mapping
from .mask import Masker
from .outfiles import limit_modes_to
from .readers import SourceInfo
from .reports.batch import statement_check
from .reports.control import ControlTotals
from .reports.files import DuplicatesFile, RejectsFile
from .reports.ledger import Ledger, Tally, TieOut
from .rerun import batch_key_of, converted_before, finished_in, input_sha256
from .run_report import RunFacts, add_check_warnings, build_report, tie_out, write_reports
from .writers import OutputFile, Target, Writer, resolve_target
from .writers.base import CsvWriter, WriteContext, add_written
from .writers.options import check_option_names, target_options

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
    mask: Masker | None = None,
    limits: Mapping[str, str] | None = None,
    engine: str | Engine = "local",
) -> ConvertResult:
    """Convert ``inputs`` (one batch) with ``mapping`` into each of ``targets`` in ``outdir``.

    Writes the import file(s), ``rejects.csv``, ``duplicates.csv`` and ``report.json``, all
    atomically. ``options`` are target options (``date_order=dmy``, or per target
    ``qbo-bank.date_order=mdy``). Raises CsvbridgeError subclasses for problems a user must fix;
    row-level problems never raise, they are rejected and reported.

    ``history`` is the history database (True: the default location, False: none); records
    already imported in an earlier batch are duplicates. ``decisions`` is a person's file of
    duplicate decisions (identity, decision) that overrides the flags. ``mask`` says what
    to mask in the reports (default: account and card numbers; ``NO_MASK`` for nothing).
    ``limits`` are ``--limit`` values by name (docs/limits.md).

    An input that is a folder stands for the files in it, sorted by name. ``engine`` runs the
    reading and mapping: ``local`` (here), ``dask`` (a local Dask cluster) or an Engine
    (``engines.get_engine``); outputs are the same byte for byte whichever runs them.
    """
    lm = mapping if isinstance(mapping, LoadedMapping) else load_mapping(mapping)
    cm = CompiledMapping(lm.mapping, str(lm.path))
    kind = cm.kind
    files = expand_inputs(inputs)
    eng = get_engine(engine) if isinstance(engine, str) else engine
    if not files:
        raise InputFileError(
            "no input files given", hint="name one or more files to convert.", code="no-input"
        )
    chosen: list[Target] = []
    for word in targets:
        t = resolve_target(word, kind.name)
        if t not in chosen:
            chosen.append(t)
    given = dict(options or {})
    check_option_names(given, chosen)
    target_opts = {t.name: target_options(t, lm, given) for t in chosen}
    limit_modes_to(inputs)  # outputs no more open than the most private input
    out = ensure_outdir(Path(outdir))
    read_opts = read_options(lm, cm, encoding, limits)
    dup_fields = tuple(lm.mapping.duplicates.fields or kind.fingerprint)
    dup_fields = tuple(f for f in dup_fields if f in lm.mapping.fields) or dup_fields
    dspec = lm.mapping.duplicates
    hold_back = dspec.policy == "skip"
    within = dspec.within_file
    if within == "auto":  # a repeated running balance marks an exported line twice
        within = "duplicate" if "balance" in dup_fields else "real"
    file_hashes = [input_sha256(p) for p in files]
    batch_key = batch_key_of(file_hashes, lm.sha256, target_opts)
    store = _open_history(history)
    same_as: list[int] = []
    if store is not None:
        store.begin()
        # The same bytes again are never re-imported: a client sending a statement twice looks
        # exactly like a re-run. What the history has seen is held back; forget undoes it.
        same_as = store.same_batch(batch_key)
        done = finished_in(store, same_as, out)
        if done is not None:  # this exact batch already finished here: leave it alone
            store.rollback()
            store.close()
            return _finished_result(done, out, same_as[-1])
        store.open_batch(batch_key, (lm.mapping.name, lm.mapping.version, lm.sha256))

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
        lone=len(files) == 1,
    )
    control = ControlTotals(sources, kind.amount_field)
    writers: dict[str, Writer] = {}
    masker = (mask or Masker()).with_mapping(dict(lm.mapping.fields))
    rejects = RejectsFile(out, sources, masker)
    dups = DuplicatesFile(out, kind, sources, masker)
    spool = DocumentSpool(kind.document_key, kind.arrow_schema()) if kind.document_key else None
    state = cm.new_state()  # fill_down, unique: and stated totals carry across chunks
    events: Generator[Event, None, None] | None = None
    committed = False
    try:

        def target_reject(
            target: str, records: pa.Table, fld: str, rule: str, message: str
        ) -> None:
            rejects.add_records(target, records, kind, fld, rule, message)
            ledger.rejected_by_rule[rule] += records.num_rows

        for t in chosen:
            ctx = WriteContext(out, kind, target_opts[t.name], sources, t.name, target_reject)
            ctx.mapping = _provenance(lm)
            writers[t.name] = t.factory(ctx)
        # Writers whose lines the read-ahead thread can make (not sent to Dask's workers, and
        # not for documents, which reach the writers whole from the spool)
        lines_ahead = spool is None and eng.name == "local"
        pure = {
            n: w
            for n, w in writers.items()
            if lines_ahead and isinstance(w, CsvWriter) and w.pure_cells
        }
        prep = ChunkPrep(stage.preparer(), tuple((n, w.lines) for n, w in pure.items()))
        events = eng.run(files, MapJob(lm, cm, read_opts, chunk_rows, state, prepare=prep))
        for event in events:
            if isinstance(event, Opened):
                info = event.info
                sources.append(info.name)
                infos.append(info)
                stage.start_file()
                if store is not None:
                    seen = store.inputs_seen(info.sha256)
                    if seen and not same_as:
                        info.warnings.insert(
                            event.warnings_at_open,
                            "this file (same bytes) was already converted in batch "
                            + ", ".join(map(str, seen))
                            + ": its records are duplicates of that batch's",
                        )
                read_here = Tally()
                chain = balance_chain(lm)
                continue
            if isinstance(event, Closed):
                if info.rows == 0:
                    info.warnings.append("the file has a header but no data rows")
                balances = statement_check(lm, info, read_here)
                if balances is not None:
                    reconciliation.append(balances)
                if chain is not None:
                    currency = next(iter(read_here.totals), "")
                    continuity = chain.result(info.name, currency)
                    if continuity is not None:
                        reconciliation.append(continuity)
                continue
            result = event.result
            ledger.merge(result.ledger)
            read_here.merge(result.ledger.stages["read"])
            add_check_warnings(check_warnings, info.name, result)
            rejects.add(result.rejects)
            incomplete |= result.rejected_documents
            records = result.records
            ready = event.prepared if isinstance(event.prepared, Prepped) else None
            flagged, held, flags = stage.apply(records, ready.dedup if ready else None)
            lines = ready.lines if ready else {}
            if chain is not None:  # a line the file exported twice is no movement of money
                feed_chain(chain, records, exported_twice(flagged, flags, info.name))
            control.add(records, held)
            if flags:
                dups.add(records.filter(pa.array(flagged)), flags)
                ledger.duplicates_flagged += len(flags)
                if held.any():
                    add_written(ledger.stages["duplicate"], records.filter(pa.array(held)), kind)
                    kept = pa.array(~held)
                    records = records.filter(kept)
                    lines = {n: x.filter(kept) for n, x in lines.items()}
            if spool is not None:
                spool.add(records)
            else:
                for name, w in writers.items():
                    ahead = pure.get(name)
                    if ahead is not None:
                        ahead.write_prepared(records, lines.get(name))
                    else:
                        w.write(records)
            if on_chunk is not None:
                on_chunk(event.rows)
        if spool is not None:  # documents reach writers whole, lines in source order
            flush_documents(
                spool,
                chunk_rows=chunk_rows,
                kind=kind,
                docs=lm.mapping.documents,
                totals=state.totals,
                incomplete=incomplete,
                rejects=rejects,
                ledger=ledger,
                writers=writers.values(),
                doc_warnings=doc_warnings,
            )
        for name, w in writers.items():
            ledger.written[name] = w.tally
            ledger.target_rejected[name] = w.rejected
        tie_outs = tie_out(ledger, [t.name for t in chosen])
        outputs: list[OutputFile] = []
        produced: dict[str, list[OutputFile]] = {}
        for name, w in writers.items():
            produced[name] = w.close()
            outputs += produced[name]
        reject_files = rejects.close()
        dup_files = dups.close()
        batch_id = None
        if store is not None:
            batch_id = store.record(
                batch_key=batch_key,
                mapping=(lm.mapping.name, lm.mapping.version, lm.sha256),
                inputs=[{"name": i.name, "sha256": i.sha256} for i in infos],
                outputs=[{"target": t, **f.as_dict()} for t, fs in produced.items() for f in fs],
            )
        committed = True  # failed before this, the import files written are removed again
    finally:
        if events is not None:
            events.close()  # a stopped run closes its files and its cluster
        if not committed:
            for w in writers.values():
                w.abort()
            rejects.abort()
            dups.abort()
            if store is not None:
                store.close()  # rolls the history back: nothing of this run is kept
    try:
        report = build_report(
            RunFacts(
                lm=lm,
                infos=infos,
                chosen=chosen,
                target_opts=target_opts,
                produced=produced,
                reject_files=reject_files,
                dup_files=dup_files,
                ledger=ledger,
                tie_outs=tie_outs,
                rejects=rejects,
                dups=dups,
                dup_fields=dup_fields,
                hold_back=hold_back,
                within=within,
                stage=stage,
                control=control,
                reconciliation=reconciliation,
                check_warnings=check_warnings,
                doc_warnings=doc_warnings,
                masker=masker,
                batch_id=batch_id,
            )
        )
        write_reports(report, out)
        if store is not None:
            store.finish()  # the history records the batch once its outputs and reports exist
    finally:
        if store is not None:
            store.close()
    warnings = [f"{i.name}: {w}" for i in infos for w in i.warnings]
    if same_as:
        warnings.append(converted_before(same_as[-1], hold_back))
    return ConvertResult(
        report=report,
        outputs=outputs + reject_files + dup_files,
        tie_outs=tie_outs,
        rejected=rejects.count,
        duplicates=dups.count,
        outdir=out,
        warnings=warnings,
    )


def _finished_result(report: dict[str, Any], out: Path, batch: int) -> ConvertResult:
    """The result of a batch that had already finished in ``out``: its own report."""
    return ConvertResult(
        report=report,
        outputs=[],
        tie_outs=[],
        rejected=int((report.get("rejects") or {}).get("rows", 0)),
        duplicates=int((report.get("duplicates") or {}).get("flagged", 0)),
        outdir=out,
        warnings=[
            f"batch {batch} (these files, this mapping, these targets) already finished in "
            f"{out}: its import files there are complete and were left as they are. To convert "
            f"again, use another output folder, or run csvbridge forget {batch} first"
        ],
    )


def _provenance(lm: LoadedMapping) -> dict[str, str]:
    """The mapping, as import files with room for it record it."""
    m = lm.mapping
    return {"name": m.name, "version": m.version, "file": lm.path.name, "sha256": lm.sha256}


def _open_history(history: str | Path | bool) -> History | None:
    if history is False:
        return None
    return History(default_path() if history is True else Path(history))
