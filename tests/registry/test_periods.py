"""Valid time's one question, "is this fact in effect on day D?" (registry/periods.py): both
ends of a period are included, an open period holds from its start on, and the SQL condition
answers as `Period` does."""

from datetime import date

import pytest
from sqlmodel import select

from registry.models import Entrustment
from registry.periods import Period, holding_on, in_effect, in_effect_or_open, last_day_before
from tests import factories as f

START, END = date(2026, 3, 1), date(2026, 3, 31)


@pytest.mark.parametrize("day, holds", [
    (date(2026, 2, 28), False), (START, True), (date(2026, 3, 15), True), (END, True), (date(2026, 4, 1), False),
])
def test_a_closed_period_holds_from_its_first_to_its_last_day_both_included(day, holds):
    assert Period(START, END).holds_on(day) is holds


@pytest.mark.parametrize("day, holds", [(date(2026, 2, 28), False), (START, True), (date(2099, 1, 1), True)])
def test_an_open_period_holds_from_its_first_day_on(day, holds):
    period = Period(START)
    assert period.is_open and period.holds_on(day) is holds


def test_a_period_ended_from_its_first_day_is_empty_and_holds_on_no_day():
    period = Period(START, last_day_before(START))
    assert period.is_empty() and not period.is_open
    assert not any(period.holds_on(day) for day in (last_day_before(START), START))
    assert not Period(START, START).is_empty() and Period(START, START).holds_on(START)


def test_a_fact_ended_from_a_day_holds_until_the_day_before_across_months_and_years():
    assert last_day_before(date(2026, 3, 1)) == date(2026, 2, 28)
    assert last_day_before(date(2028, 3, 1)) == date(2028, 2, 29)
    assert last_day_before(date(2027, 1, 1)) == date(2026, 12, 31)
    ended = Period(START, last_day_before(date(2026, 3, 10)))
    assert ended.holds_on(date(2026, 3, 9)) and not ended.holds_on(date(2026, 3, 10))


def test_rows_holding_on_a_day_keep_their_order():
    rows = [Entrustment(id=n, contract_id=1, effective_from=start, effective_until=end)
            for n, (start, end) in enumerate([(START, END), (date(2026, 3, 20), None), (date(2026, 4, 1), None)])]
    assert [r.id for r in holding_on(rows, date(2026, 3, 25))] == [0, 1]
    assert [r.id for r in holding_on(rows, date(2026, 4, 1))] == [1, 2]
    assert Period.of(rows[0]) == Period(START, END)


async def test_the_sql_condition_answers_as_the_period_does_on_every_day(session):
    biz = await f.business(session)
    contract = await f.contract(session, biz, await f.subcontractor(session), effective_from=date(2026, 1, 1))
    spans = [(START, END), (date(2026, 3, 20), None), (START, last_day_before(START))]
    made = [await f.entrustment(session, contract, [], [], effective_from=start, effective_until=end)
            for start, end in spans]
    await session.commit()
    for day in (date(2026, 2, 28), START, date(2026, 3, 19), date(2026, 3, 20), END, date(2026, 4, 1)):
        found = (await session.exec(select(Entrustment.id).where(in_effect(Entrustment, day))
                                    .order_by(Entrustment.id))).all()
        assert list(found) == [e.id for e in made if Period.of(e).holds_on(day)], day
    still_open = (await session.exec(select(Entrustment.id).where(in_effect_or_open(Entrustment, None)))).all()
    assert list(still_open) == [made[1].id]
