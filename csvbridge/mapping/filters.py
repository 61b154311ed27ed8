"""Row filters: rows a mapping leaves out on purpose, counted under the filter's name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .expressions import Frame
from .fields import Columns, text_of
from .formulas import Formulas
from .model import FilterSpec, Mapping


class RowFilters:
    """Mixin of CompiledMapping: the mapping's filters."""

    mapping: Mapping
    formulas: Formulas

    def _chunk_frame(self, t: pa.Table, columns: Columns) -> Frame:
        raise NotImplementedError

    def _filters(self, t: pa.Table, columns: Columns) -> _Filtered:
        n = t.num_rows
        out = _Filtered(any=np.zeros(n, dtype=bool), by_name={})
        for i, f in enumerate(self.mapping.filters):
            if f.when is not None:
                holds, _ = self.formulas.condition(
                    self.formulas.filters[i], self._chunk_frame(t, columns)
                )
                mask = holds & ~out.any
            else:
                assert f.column is not None  # the model requires it without when:
                col = columns.resolve(f.column, f"filters[{i + 1}].column")
                mask = _filter_mask(f, text_of(t, col)) & ~out.any
            out.by_name[f.name] = out.by_name.get(f.name, np.zeros(n, dtype=bool)) | mask
            out.any |= mask
        return out


@dataclass
class _Filtered:
    any: npt.NDArray[np.bool_]
    by_name: dict[str, npt.NDArray[np.bool_]]


def _filter_mask(f: FilterSpec, text: pa.Array) -> npt.NDArray[np.bool_]:
    if f.equals is not None:
        m = pc.equal(text, f.equals.strip())
    elif f.matches is not None:
        m = pc.match_substring_regex(text, f.matches)
    elif f.in_ is not None:
        m = pc.is_in(text, value_set=pa.array([v.strip() for v in f.in_], pa.string()))
    else:
        m = pc.equal(text, "") if f.empty else pc.not_equal(text, "")
    return np.asarray(pc.fill_null(m, False), dtype=bool)
