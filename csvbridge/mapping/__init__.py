"""Mappings: YAML files that say how a source layout becomes canonical records."""

from .compile import ChunkResult, CompiledMapping
from .fields import Columns
from .load import LoadedMapping, load_mapping, parse_mapping_text
from .model import Mapping
from .rejects import RejectedRow, RowError

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
