"""Keyset pagination over any filtered selection, in id order.

A page is read after the last id of the previous one, so rows written meanwhile never
shift a page (unlike offsets); `total` counts the whole filtered selection.
"""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.errors import InvalidInput

T = TypeVar("T")
MAX_FIRST = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    total: int


def require_first(first: int) -> int:
    """A page holds 0..1000 rows, so no request can ask for the whole registry at once."""
    if not 0 <= first <= MAX_FIRST:
        raise InvalidInput(f"first must be between 0 and {MAX_FIRST}", field="first")
    return first


async def paginate(
    session: AsyncSession, stmt: sa.Select, *, first: int, after_id: int | None, id_col
) -> Page:
    """Up to `first` rows of `stmt` with an id above `after_id`, ascending by id."""
    require_first(first)
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = (await session.exec(counted)).one()
    if after_id is not None:
        stmt = stmt.where(id_col > after_id)
    rows = list((await session.exec(stmt.order_by(id_col).limit(first + 1))).all())
    return Page(items=rows[:first], has_next=len(rows) > first, total=total)


def group_by(keys: Iterable[Hashable], rows: Iterable[T], key_of: Callable[[T], Hashable]) -> dict:
    """Rows grouped under the keys asked for, in row order; a key with no rows gets []
    (a batched read answers every key it was asked about)."""
    grouped: dict = {key: [] for key in keys}
    for row in rows:
        grouped.setdefault(key_of(row), []).append(row)
    return grouped
