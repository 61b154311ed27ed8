"""Reading a history without changing it, for commands that only look (``csvbridge history``):
the database is opened read-only, so a history the user can only read is listed, and an
older layout (records in table ``record``) is read as it is — it is migrated by the next
command that writes to it (convert, forget, the watcher), never by a listing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .history import Batch, history_error

_BATCHES = (
    "SELECT id, created, mapping, mapping_version, inputs, outputs, records FROM batch ORDER BY id"
)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the history at ``path`` (which must exist). A history in
    WAL mode needs its -shm file; in a folder we cannot write to, where SQLite cannot create
    it, the file is read as immutable instead (what was committed to it; a writer with more
    rights working on it at the same moment is not seen)."""
    uri = path.absolute().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=5)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError as e:
        db.close()
        if "unable to open" not in str(e) and "readonly" not in str(e):
            raise
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=5)


def read_batches(path: Path) -> list[Batch]:
    """Every batch of the history at ``path``, oldest first, without writing to it (no
    migration, no new file: a history that does not exist has no batches)."""
    if not path.exists():
        return []
    try:
        db = open_read_only(path)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return []  # an empty file: nothing was recorded yet
            if "batch" not in tables:
                raise sqlite3.DatabaseError("not a database: it has no batch table")
            rows = db.execute(_BATCHES).fetchall()
        finally:
            db.close()
    except sqlite3.Error as e:
        raise history_error(e, path) from None
    return [Batch(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6]) for r in rows]
