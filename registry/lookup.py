"""Batched lookups of rows by key, for callers that resolve many references at once.

One query whatever the number of keys; missing keys are simply absent from the answer.
"""

from collections.abc import Iterable
from typing import TypeVar

from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row", bound=SQLModel)


async def rows_by_ids(session: AsyncSession, model: type[Row], ids: Iterable[int]) -> dict[int, Row]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.exec(select(model).where(model.id.in_(wanted)))
    return {row.id: row for row in rows}
