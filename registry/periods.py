"""Valid time: the one way the registry asks "is this fact in effect on day D?" (DESIGN.md "Time").

Every fact that decides who handles what holds for a period of calendar days: an item held
for a customer, an entrustment, a provision, a purpose, a joint use. A period is stored as two
columns, `effective_from` (the first day) and `effective_until` (the last day, inclusive, as a
contract's `expires_on` is; NULL while it is open). Ending a fact "from day D on" closes its
period on the day before D; the row stays, so an answer about any earlier day is unchanged.

`Period` answers the question for rows already read, `in_effect` for a query; both read the
same two columns, so no module writes its own date comparison.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """The days from `start` to `end`, both included; `end` None: open."""

    start: date
    end: date | None = None

    @classmethod
    def of(cls, row: Any) -> "Period":
        """The period of a row with `effective_from` and `effective_until` columns."""
        return cls(row.effective_from, row.effective_until)

    def holds_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    @property
    def is_open(self) -> bool:
        return self.end is None

    def is_empty(self) -> bool:
        """Closed before it began (opened and ended from the same day)."""
        return self.end is not None and self.end < self.start


def in_effect(model: Any, day: date) -> sa.ColumnElement[bool]:
    """The SQL condition "the row's period holds on `day`", for a model with the two columns."""
    return sa.and_(
        model.effective_from <= day,
        sa.or_(model.effective_until.is_(None), model.effective_until >= day),
    )


def not_ended_by(model: Any, day: date) -> sa.ColumnElement[bool]:
    """The SQL condition "not ended before `day`": in effect that day or later (a period that
    begins later has not ended)."""
    return sa.or_(model.effective_until.is_(None), model.effective_until >= day)


def begun_by(model: Any, day: date) -> sa.ColumnElement[bool]:
    """The SQL condition "the row's period held on some day up to `day`": it began by then and
    was not closed before it began (`Period.is_empty`)."""
    return sa.and_(
        model.effective_from <= day,
        sa.or_(model.effective_until.is_(None), model.effective_until >= model.effective_from),
    )


def in_effect_or_open(model: Any, day: date | None) -> sa.ColumnElement[bool]:
    """`in_effect` on `day`; without a day, the rows not ended (what holds now and on)."""
    return model.effective_until.is_(None) if day is None else in_effect(model, day)


def last_day_before(day: date) -> date:
    """The `effective_until` of a fact that ends from `day` on."""
    return day - ONE_DAY


def holding_on(rows: list, day: date) -> list:
    """The rows (with the two columns) whose period holds on `day`, in their order."""
    return [row for row in rows if Period.of(row).holds_on(day)]
