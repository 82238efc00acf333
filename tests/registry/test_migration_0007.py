"""Migration 0007 (issue 13), on SQLite and PostgreSQL: down to 0006 drops the new columns and
the joint-use tables; up again takes what the audit trail recorded back, so a database that
went down and up keeps its foreign-transfer bases (and with them every answer for today), its
notice facts, opt-out notifications, Japanese titles and joint uses."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from registry import businesses, joint_uses, migrate, provisions
from registry.db import Database
from registry.demo import BUSINESS, seed_demo
from registry.enums import ForeignTransferBasis, LegalBasis
from registry.models import Business, DataItem, JointUse, Provision, Purpose, Subcontractor, ThirdPartyRecipient
from tests.registry.test_migration_0006 import answers_for

ACTOR = "migration-test"
FACTS = {"address": "1-2-3 Example, Tokyo (fictional)", "representative": "Taro Almex (fictional)",
         "request_procedure": "By the form; no fee", "security_measures": ["Access control", "Encryption"]}


async def more_writes(session, today) -> None:
    await businesses.update_business(session, actor=ACTOR, code=BUSINESS, changes=FACTS)
    await businesses.create_purpose(session, actor=ACTOR, business_code=BUSINESS, code="P6", title="Coupons",
                                    title_ja="クーポン", today=today)
    business = await businesses.get_business(session, BUSINESS)
    await businesses.add_data_item(session, actor=ACTOR, business_id=business.id, code="birthday", name="Birthday",
                                   name_ja="誕生日")
    us = await provisions.create_recipient(session, actor=ACTOR, name="Rewards Inc.", country="US", kind="rewards",
                                           foreign_transfer_basis=ForeignTransferBasis.CONSENT_WITH_INFORMATION)
    await provisions.create_provision(session, actor=ACTOR, business_code=BUSINESS, recipient_id=us.id,
                                      purpose_codes=["P5"], data_item_codes=["name"], legal_basis=LegalBasis.OPT_OUT,
                                      ppc_notified_on=today - timedelta(days=30), today=today)
    for users in ("Group companies", "Former partner"):
        joint = await joint_uses.create_joint_use(session, actor=ACTOR, business_code=BUSINESS, users=users,
                                                  responsible="ALMEX Inc.", purpose_codes=["P1", "P3"],
                                                  data_item_codes=["name", "email"], today=today)
    await joint_uses.end_joint_use(session, actor=ACTOR, id=joint.id, effective_until=today, today=today)


async def state(database: Database) -> dict:
    async with database.session() as session:
        business = (await session.exec(select(Business))).one()
        links = await joint_uses.joint_use_links(session, [j.id for j in (await session.exec(select(JointUse))).all()])
        return {
            "facts": {key: getattr(business, key) for key in FACTS},
            "bases": sorted((s.name, s.foreign_transfer_basis) for s in (await session.exec(select(Subcontractor)))
                            if s.foreign_transfer_basis) + sorted(
                (r.name, r.foreign_transfer_basis) for r in (await session.exec(select(ThirdPartyRecipient)))),
            "notified": [p.ppc_notified_on for p in (await session.exec(select(Provision).order_by(Provision.id)))],
            "ja": [p.title_ja for p in (await session.exec(select(Purpose).order_by(Purpose.id)))]
            + [i.name_ja for i in (await session.exec(select(DataItem).order_by(DataItem.id)))],
            "joint_uses": [(j.id, j.users, j.effective_from, j.effective_until,
                            [p.code for p in links[0][j.id]], [i.code for i in links[1][j.id]])
                           for j in (await session.exec(select(JointUse).order_by(JointUse.id)))],
        }


async def columns(url: str) -> dict[str, set[str]]:
    engine = create_async_engine(url, poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: {
                table: {column["name"] for column in sa.inspect(c).get_columns(table)}
                for table in sa.inspect(c).get_table_names()})
    finally:
        await engine.dispose()


async def test_down_to_0006_and_up_again_keeps_bases_facts_and_joint_uses_and_todays_answers(database_url, clock):
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    today = clock.today()
    async with database.session(write=True) as session:
        assert await seed_demo(session, clock=clock)
        await more_writes(session, today)
    before, answers = await state(database), await answers_for(database, today)
    await database.dispose()
    assert len(before["joint_uses"]) == 2 and ("Panelist Hub Pte. Ltd. (fictional)", "EQUIVALENT_MEASURES") in [
        (name, str(basis)) for name, basis in before["bases"]]

    migrate.downgrade(database_url, "0006")
    old = await columns(database_url)
    assert "foreign_transfer_basis" not in old["subcontractor"] and "ppc_notified_on" not in old["provision"]
    assert "address" not in old["business"] and not {"joint_use", "joint_use_purpose"} & set(old)

    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    try:
        assert await state(database) == before
        assert await answers_for(database, today) == answers
        async with database.session(write=True) as session:  # the ids go on after the restored ones
            joint = await joint_uses.create_joint_use(session, actor=ACTOR, business_code=BUSINESS, users="New",
                                                      responsible="ALMEX Inc.", purpose_codes=["P1"],
                                                      data_item_codes=["name"], today=today)
            assert joint.id > max(j[0] for j in before["joint_uses"])
    finally:
        await database.dispose()
