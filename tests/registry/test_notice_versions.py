"""Published versions of the notice (issue 13 part 5): numbered per business, one text per
language, idempotent, audited without the text, and never two with one number."""

import asyncio
import hashlib
import json

import pytest
from sqlmodel import func, select

from registry import businesses, notice_versions, version
from registry.errors import Duplicate, InvalidInput, NotFound
from registry.models import AuditEvent, NoticeVersion
from registry.notice import LANGUAGES
from tests import factories
from tests.conftest import TEST_CLOCK

ACTOR = "officer"
TODAY = TEST_CLOCK.today()
WRITERS = 10


async def rows(session) -> int:
    return (await session.exec(select(func.count()).select_from(NoticeVersion))).one()


async def events(session) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == "notice.publish").order_by(AuditEvent.id)
    return list((await session.exec(stmt)).all())


async def a_business(session, **overrides):
    business = await factories.business(session, **overrides)
    await session.commit()
    return business


async def publish(session, code, *, actor=ACTOR, today=TODAY):
    return await notice_versions.publish(session, actor=actor, business_code=code, today=today)


async def rename(session, code, name):
    await businesses.update_business(session, actor=ACTOR, code=code, changes={"name": name})


async def test_the_first_publication_is_version_1_with_each_language_kept_as_markdown_and_html(session):
    biz = await a_business(session, name="Hotel Aoi")
    published = await publish(session, biz.code)
    assert published.created
    assert (published.publication.version, published.publication.published_on) == (1, TODAY)
    assert list(published.publication.content_hashes) == list(LANGUAGES)
    for lang in LANGUAGES:
        kept = await notice_versions.get(session, biz.code, 1, lang)
        assert (kept.version, kept.lang, kept.published_on, kept.published_by) == (1, lang, TODAY, ACTOR)
        assert kept.content_hash == hashlib.sha256(kept.markdown.encode()).hexdigest()
        assert kept.content_hash == published.publication.content_hashes[lang]
        assert "Hotel Aoi" in kept.markdown and f'<html lang="{lang}">' in kept.html


async def test_publishing_an_unchanged_notice_stores_nothing_and_answers_the_latest_version(session):
    biz = await a_business(session)
    first = await publish(session, biz.code)
    again = await publish(session, biz.code, actor="someone else")
    assert not again.created
    assert again.publication == first.publication
    assert (await rows(session), len(await events(session))) == (len(LANGUAGES), 1)


async def test_a_changed_registry_is_the_next_version_and_the_earlier_text_stays_as_published(session):
    biz = await a_business(session, name="Hotel Aoi")
    await publish(session, biz.code)
    await rename(session, biz.code, "Hotel Midori")
    second = await publish(session, biz.code)
    assert (second.created, second.publication.version) == (True, 2)
    assert "Hotel Aoi" in (await notice_versions.get(session, biz.code, 1, "en")).markdown
    assert "Hotel Midori" in (await notice_versions.latest(session, biz.code, "en")).markdown
    assert "Hotel Midori" in (await notice_versions.latest(session, biz.code, "ja")).markdown
    listed = await notice_versions.versions(session, biz.code)
    assert [p.version for p in listed] == [2, 1]
    assert listed[0] == second.publication
    assert listed[1].content_hashes != listed[0].content_hashes


async def test_versions_are_numbered_per_business(session):
    one, other = await a_business(session), await a_business(session)
    await publish(session, one.code)
    await rename(session, one.code, "Renamed")
    await publish(session, one.code)
    assert (await publish(session, other.code)).publication.version == 1


async def test_the_audit_event_holds_the_numbers_and_hashes_never_the_text(session):
    biz = await a_business(session, name="Hotel Aoi")
    first = (await publish(session, biz.code)).publication
    await rename(session, biz.code, "Hotel Midori")
    second = (await publish(session, biz.code)).publication
    [created, changed] = await events(session)
    assert (changed.actor, changed.entity_type, changed.entity_id) == (ACTOR, "Business", biz.id)
    assert json.loads(created.after) == {"notice_version": 1, "published_on": TODAY.isoformat(),
                                         "content_hashes": first.content_hashes}
    assert json.loads(changed.before)["content_hashes"] == first.content_hashes
    assert json.loads(changed.after)["content_hashes"] == second.content_hashes
    assert created.before is None
    assert "Hotel" not in created.after + changed.before + changed.after


async def test_a_publication_raises_the_registry_version_and_an_unchanged_one_does_not(db):
    async with db.session(write=True) as session:
        code = (await a_business(session)).code

    async def publish_then_read_version():
        async with db.session(write=True) as session:
            await publish(session, code)
        async with db.session() as session:
            return await version.current(session)

    async with db.session() as session:
        before = await version.current(session)
    assert await publish_then_read_version() == before + 1
    assert await publish_then_read_version() == before + 1


async def test_a_business_that_never_published_has_no_versions_and_no_latest(session):
    biz = await a_business(session)
    assert await notice_versions.versions(session, biz.code) == []
    assert await notice_versions.latest(session, biz.code, "en") is None


@pytest.mark.parametrize("read", [
    lambda s: notice_versions.versions(s, "nobody"),
    lambda s: notice_versions.latest(s, "nobody", "en"),
    lambda s: notice_versions.get(s, "nobody", 1, "en"),
    lambda s: publish(s, "nobody"),
])
async def test_an_unknown_business_is_not_found(session, read):
    with pytest.raises(NotFound, match="nobody") as raised:
        await read(session)
    assert raised.value.field == "businessCode"


@pytest.mark.parametrize("number", [0, -1, 2, 2**31, 10**20])
async def test_a_version_never_published_is_not_found(session, number):
    biz = await a_business(session)
    await publish(session, biz.code)
    with pytest.raises(NotFound, match=f"no published version {number}") as raised:
        await notice_versions.get(session, biz.code, number, "en")
    assert raised.value.field == "version"


async def test_a_language_without_a_notice_is_invalid_input(session):
    biz = await a_business(session)
    await publish(session, biz.code)
    with pytest.raises(InvalidInput) as raised:
        await notice_versions.get(session, biz.code, 1, "fr" * 100)
    assert raised.value.field == "lang" and len(raised.value.message) < 100


# --- concurrency: both backends -------------------------------------------------------------


async def _race(db, code) -> list:
    async def one(n):
        async with db.session(write=True) as session:
            return await publish(session, code, actor=f"writer-{n}")

    return await asyncio.gather(*(one(n) for n in range(WRITERS)), return_exceptions=True)


async def test_concurrent_publications_of_one_notice_store_one_version_that_all_of_them_answer(db):
    async with db.session(write=True) as session:
        code = (await a_business(session)).code
    results = await _race(db, code)
    assert {r.publication.version for r in results} == {1}, results
    assert sum(r.created for r in results) == 1
    async with db.session(write=True) as session:
        await rename(session, code, "Renamed")
    results = await _race(db, code)
    assert {r.publication.version for r in results} == {2}, results
    async with db.session() as session:
        assert (await rows(session), len(await events(session))) == (2 * len(LANGUAGES), 2)


async def test_a_number_taken_by_a_writer_that_did_not_wait_is_a_duplicate_and_nothing_is_stored(session, monkeypatch):
    biz = await a_business(session)
    await publish(session, biz.code)
    await rename(session, biz.code, "Renamed")

    async def stale(session, business_id):  # as if version 1 were not committed yet
        return None

    monkeypatch.setattr(notice_versions, "_latest_publication", stale)
    with pytest.raises(Duplicate, match="publish again") as raised:
        await publish(session, biz.code)
    assert raised.value.field == "businessCode"
    assert (await rows(session), len(await events(session))) == (len(LANGUAGES), 1)
