"""Mappings: YAML files that say how a source layout becomes canonical records."""

from .compile import ChunkResult, CompiledMapping, RejectedRow, RowError
from .fields import Columns
from .load import LoadedMapping, load_mapping, parse_mapping_text
from .model import Mapping

__all__ = [
    "ChunkResult",
    "Columns",
    "CompiledMapping",
    "LoadedMapping",
    "Mapping",
    "RejectedRow",
    "RowError",
    "load_mapping",
    "parse_mapping_text",
]
