from sqlmodel import select

from registry.models import Customer, CustomerDataItem
from tests import factories


async def test_factories_build_a_customer_holding_items(session):
    biz = await factories.business(session)
    items = await factories.items(session, biz)
    cust = await factories.customer(session, biz, [items["name"], items["email"]])
    await session.commit()
    held = (await session.exec(select(CustomerDataItem).where(CustomerDataItem.customer_id == cust.id))).all()
    assert {h.data_item_id for h in held} == {items["name"].id, items["email"].id}
    assert (await session.get(Customer, cust.id)).business_id == biz.id
