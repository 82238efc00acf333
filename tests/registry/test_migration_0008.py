"""Migration 0008 (issue 13), on SQLite and PostgreSQL: down to 0007 drops the Japanese versions
of the registry's texts; up again takes them back from the audit trail, whose events record every
column a write touched. The demo states all of them; a recipient, a provision and a joint use
written after it, and a business text cleared since, show that the latest event counts."""

from sqlmodel import select

from registry import businesses, joint_uses, migrate, provisions
from registry.db import Database
from registry.demo import BUSINESS, seed_demo
from registry.enums import LegalBasis
from registry.models import Business, JointUse, Provision, ThirdPartyRecipient
from tests.registry.test_migration_0007 import columns

ACTOR = "migration-test"
MODELS = {"business": Business, "third_party_recipient": ThirdPartyRecipient, "provision": Provision,
          "joint_use": JointUse}


async def more_writes(session, today) -> None:
    await businesses.update_business(session, actor=ACTOR, code=BUSINESS, changes={"contact_ja": None})
    recipient = await provisions.create_recipient(session, actor=ACTOR, name="Card companies", name_ja="カード会社",
                                                  country="JP", kind="card issuer")
    await provisions.create_provision(session, actor=ACTOR, business_code=BUSINESS, recipient_id=recipient.id,
                                      purpose_codes=["P5"], data_item_codes=["name"], legal_basis=LegalBasis.CONSENT,
                                      stated_purpose="billing", stated_purpose_ja="料金の請求", today=today)
    await joint_uses.create_joint_use(session, actor=ACTOR, business_code=BUSINESS, users="Group companies",
                                      users_ja="グループ各社", responsible="ALMEX Inc.",
                                      responsible_ja="株式会社アルメックス", purpose_codes=["P1"],
                                      data_item_codes=["name"], today=today)


async def japanese(database: Database) -> dict[str, list]:
    """Every Japanese column (named *_ja) of every row, per table."""
    async with database.session() as session:
        return {table: [[getattr(row, name) for name in model.__table__.c.keys() if name.endswith("_ja")]
                        for row in (await session.exec(select(model).order_by(model.id)))]
                for table, model in MODELS.items()}


async def test_down_to_0007_and_up_again_keeps_every_japanese_text(database_url, clock):
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    async with database.session(write=True) as session:
        assert await seed_demo(session, clock=clock)
        await more_writes(session, clock.today())
    before = await japanese(database)
    await database.dispose()
    [business] = before["business"]
    assert business[0] == "ラブインジャパン" and None in business  # contactJa cleared after the demo wrote it
    assert before["joint_use"] == [["グループ各社", "株式会社アルメックス"]]

    migrate.downgrade(database_url, "0007")
    old = await columns(database_url)
    assert not {"name_ja", "security_measures_ja"} & old["business"] and "users_ja" not in old["joint_use"]

    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    try:
        assert await japanese(database) == before
    finally:
        await database.dispose()
