"""What mapping one chunk leaves for the next. Chunk mapping is a pure function of (mapping,
chunk) except for the three rules that look beyond a chunk — ``fill_down`` (values carried
from the rows above), ``unique:`` checks (values seen earlier in the batch) and a document's
stated total (gathered while its lines are read). Their state is this one explicit object:
``CompiledMapping.apply(chunk, columns, offset, state)`` reads and updates it, so a batch's
chunks must be applied in order with one state. A mapping with none of those rules leaves it
untouched (``CompiledMapping.stateful`` is False), and its chunks may be mapped in any order
(or in parallel) with a fresh state each. The state is plain data (picklable): an engine that
spreads chunks over workers hands it from one chunk to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..documents import StatedTotals
from .fields import Columns, text_of
from .model import FillDownSpec


@dataclass
class MappingState:
    """The carried state of one batch (see the module docstring)."""

    source: int = -1  # the file the fill-down values come from (they stop at its end)
    fill: dict[str, str] = field(default_factory=dict)  # column -> last value stated
    fill_group: str | None = None  # the ``within`` value of the last row of the last chunk
    # per unique: check (by index): value -> (file, line) of its first row
    seen: dict[int, dict[Any, tuple[str, int]]] = field(default_factory=dict)
    totals: StatedTotals | None = None


def fill_down(
    table: pa.Table, columns: Columns, spec: FillDownSpec, source: int, state: MappingState
) -> pa.Table:
    """``table`` with the spec's columns filled down: an empty cell takes the last value above
    it (in this chunk, or carried in ``state`` from the previous one), never across a change
    of the ``within`` column. Updates ``state`` for the next chunk."""
    if state.source != source:
        state.source, state.fill, state.fill_group = source, {}, None
    n = table.num_rows
    if n == 0:
        return table
    idx = np.arange(n)
    if spec.within is not None:
        group = text_of(table, columns.resolve(spec.within, "fill_down.within"))
        g = np.asarray(group.to_numpy(zero_copy_only=False), dtype=object)
        starts = np.ones(n, dtype=bool)
        starts[1:] = g[1:] != g[:-1]
        starts[0] = state.fill_group is None or g[0] != state.fill_group
        state.fill_group = str(g[-1])
    else:
        starts = np.zeros(n, dtype=bool)
        starts[0] = state.fill_group is None and not state.fill
        state.fill_group = ""
    group_start = np.maximum.accumulate(np.where(starts, idx, 0))
    continues = ~np.logical_or.accumulate(starts)  # rows still in the previous chunk's group
    for i, ref in enumerate(spec.columns):
        name = columns.resolve(ref, f"fill_down.columns[{i + 1}]")
        text = text_of(table, name)
        stated = np.asarray(pc.not_equal(text, ""), dtype=bool)
        last = np.maximum.accumulate(np.where(stated, idx, -1))
        inside = last >= group_start  # a value stated above, in the same group
        take = np.where(inside, last, 0)
        filled = pc.take(text, pa.array(take))
        carried = state.fill.get(name)
        if carried is not None:
            use_carry = continues & ~inside
            filled = pc.if_else(pa.array(use_carry), carried, filled)
            inside |= use_carry
        filled = pc.if_else(pa.array(inside), filled, text)
        pos = table.column_names.index(name)
        table = table.set_column(pos, pa.field(name, filled.type), filled)
        tail = filled[n - 1].as_py()
        if tail:
            state.fill[name] = tail
        else:
            state.fill.pop(name, None)
    return table
