"""A read made on a second connection while this thread parses an upload.

python-calamine parses a sheet in Rust without holding the GIL, and the database driver waits for
its server (or SQLite's b-tree) without it too: a query an import needs whatever the file holds —
the union's roster, its members' mobiles — can run in a thread of its own while the file is parsed,
instead of after it. `Beside(fn, *args)` starts it; `result()` waits and gives its value (or raises
its error). Inside a transaction (a test, a caller's own transaction) it runs in this thread at
`result()` instead: another connection would not see what that transaction wrote.
"""

import threading

from models import db


class Beside:
    def __init__(self, fn, *args):
        self._fn, self._args = fn, args
        self._value = self._error = None
        self._thread = None
        if not db.in_transaction():
            self._thread = threading.Thread(target=self._run, name="read-beside", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn(*self._args)
        except BaseException as exc:  # noqa: BLE001 — raised again by result() in the caller's thread
            self._error = exc
        finally:
            db.close()  # this thread's connection back (to the pool)

    def result(self):
        if self._thread is None:
            return self._fn(*self._args)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value

    def close(self) -> None:
        """Wait for the thread without its result (the caller failed before it needed it)."""
        if self._thread is not None:
            self._thread.join()
