"""Counting the SQL statements a piece of code sends, for tests that bound them."""

import sqlalchemy as sa


class Statements:
    """Counts the SQL statements sent through `engines` while in use (SQLite's BEGIN aside),
    and keeps them in `sent`."""

    def __init__(self, *engines):
        self.engines = {e.sync_engine for e in engines}
        self.count = 0
        self.sent: list[str] = []

    def _seen(self, _conn, _cursor, statement: str, *_args) -> None:
        if not statement.startswith("BEGIN"):
            self.count += 1
            self.sent.append(statement)

    def __enter__(self):
        for engine in self.engines:
            sa.event.listen(engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        for engine in self.engines:
            sa.event.remove(engine, "before_cursor_execute", self._seen)
