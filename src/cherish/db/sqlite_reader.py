"""SQLite queries read into Arrow by the ADBC driver, in a child process of their own.

The ADBC driver carries its own copy of SQLite. Two copies of SQLite on one file in one process do not see each
other's POSIX locks: closing one's handle drops the other's locks, and the last to close removes the WAL index
the other still has mapped (SIGBUS, or a corrupt store; SQLite's "How To Corrupt", section 2.2.1). So the
process that holds the store through Python's sqlite3 never loads the driver: a child reads and streams Arrow
IPC back over a pipe, which costs a copy but keeps the driver's speed (four times Python's driver here).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa

from cherish.errors import EngineError

# Rows per Arrow batch sent back: big enough that the pipe, not Python, sets the pace.
_BATCH_ROWS = 65536


def read_sqlite(path: str, sql: str) -> pa.Table:
    """The rows of ``sql`` on the SQLite file at ``path``, read read-only by a child process."""
    request = json.dumps({"path": str(Path(path).resolve()), "sql": sql}).encode()
    child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    table: pa.Table | None = None
    try:
        child.stdin.write(request)
        child.stdin.close()
        table = pa.ipc.open_stream(child.stdout).read_all()
    except (pa.ArrowInvalid, OSError):
        table = None  # the child failed before or while streaming: its message is on stderr
    finally:
        child.stdout.close()
        problem = child.stderr.read().decode(errors="replace").strip()
        child.stderr.close()
        code = child.wait()
    if code != 0 or table is None:
        last = problem.splitlines()[-1] if problem else f"exit status {code}"
        raise EngineError(f"reading the store into Arrow failed ({last}); the query was: {' '.join(sql.split())}")
    return table


def _serve() -> None:
    """The child's side: one request on stdin, an Arrow IPC stream on stdout."""
    import adbc_driver_sqlite
    import adbc_driver_sqlite.dbapi as adbc

    request = json.load(sys.stdin)
    uri = f"file:{quote(request['path'])}?mode=ro"  # (a '?' or '#' in a folder's name is escaped)
    with adbc.connect(uri) as conn, conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{adbc_driver_sqlite.StatementOptions.BATCH_ROWS.value: str(_BATCH_ROWS)})
        cursor.execute(request["sql"])
        reader = cursor.fetch_record_batch()
        with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)


if __name__ == "__main__":
    try:
        _serve()
    except Exception as exc:  # noqa: BLE001 — any failure: one line for the parent, not a traceback
        print(" ".join(str(exc).split()) or type(exc).__name__, file=sys.stderr)
        sys.exit(1)
