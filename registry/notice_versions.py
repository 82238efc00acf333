"""Published versions of the privacy notice: what a customer was told, and from when (APPI Art. 32).

Publishing renders the notice as it reads now (registry/notice.py) in every language and
keeps each text, as Markdown and as HTML, with the day and a content hash (the SHA-256 of
the Markdown), under the business's next version number: 1, 2, ... One number covers every
language of one publication. A kept text is never rendered again: a later change to the
registry, or to the notice's wording, shows in the next publication only.

Publishing a notice that reads as the latest version in every language stores nothing and
answers that version, so publishing twice is harmless. Publications of one business take
turns on its row, so no two ever take one number; the table's unique (business, version,
language) is the last guard, and a publication it stops has written nothing (DUPLICATE).
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.audit import record
from registry.businesses import get_business
from registry.errors import Duplicate, InvalidInput, NotFound
from registry.models import Business, NoticeVersion
from registry.notice import LANGUAGES, render_notice
from registry.validation import fetch, insert_unique

MAX_VERSION = 2**31 - 1  # the column's range (a 32-bit integer on PostgreSQL)


@dataclass(frozen=True)
class Publication:
    """One published version of a business's notice: its number, its day, and the content
    hash of its text in each language (in LANGUAGES order)."""

    version: int
    published_on: date
    published_at: datetime
    content_hashes: dict[str, str]


@dataclass(frozen=True)
class Published:
    """What publishing answered: the version now latest, and whether this call stored it."""

    publication: Publication
    created: bool


def content_hash(markdown: str) -> str:
    """What identifies a text: the SHA-256 of its Markdown, in hex."""
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


async def publish(session: AsyncSession, *, actor: str, business_code: str, today: date) -> Published:
    """Keep the notice as it reads now, in every language, as the business's next version,
    published on `today`. When every language's text equals the latest version's, nothing is
    stored and that version is the answer: publishing twice is idempotent. Audited with the
    version numbers and content hashes, never the text; the caller's session is committed."""
    business = await get_business(session, business_code)
    business = await fetch(session, Business, business.id, lock=True)  # versions are numbered one at a time
    texts = {lang: await _rendered(session, business.code, lang) for lang in LANGUAGES}
    hashes = {lang: content_hash(markdown) for lang, (markdown, _) in texts.items()}
    last = await _latest_publication(session, business.id)
    if last is not None and last.content_hashes == hashes:
        return Published(last, created=False)
    number = 1 if last is None else last.version + 1
    rows = [NoticeVersion(business_id=business.id, version=number, lang=lang, published_on=today,
                          published_by=actor, content_hash=hashes[lang], markdown=markdown, html=page)
            for lang, (markdown, page) in texts.items()]
    taken = Duplicate(f"version {number} of the notice of {business.code!r} was published by another writer at "
                      "the same time: nothing was stored; publish again", field="businessCode")
    for row in rows:
        await insert_unique(session, row, taken)
    publication = _publication(rows)
    await record(session, actor=actor, action="notice.publish", entity=business,
                 before=None if last is None else _summary(last), after=_summary(publication))
    await session.commit()
    return Published(publication, created=True)


async def versions(session: AsyncSession, business_code: str) -> list[Publication]:
    """The business's published versions, newest first (none when it never published)."""
    business = await get_business(session, business_code)
    rows = (await session.exec(_summaries(business.id))).all()
    by_version: dict[int, list] = {}
    for row in rows:
        by_version.setdefault(row.version, []).append(row)
    return [_publication(found) for found in by_version.values()]


async def in_force(session: AsyncSession, keys: list[tuple[int, date]]) -> dict[tuple[int, date], Publication]:
    """For each (business id, day), the version customers were told that day: the latest
    published on or before it (on the day of a publication, the new one). A key with nothing
    published by then is absent. One read for every key (a business has few versions)."""
    table = NoticeVersion.__table__.c
    rows = (await session.exec(
        sa.select(table.business_id, table.version, table.lang, table.published_on, table.published_at,
                  table.content_hash)
        .where(table.business_id.in_({business_id for business_id, _ in keys}))
        .order_by(table.business_id, table.version, table.id))).all()
    by_business: dict[int, dict[int, list]] = {}
    for row in rows:
        by_business.setdefault(row.business_id, {}).setdefault(row.version, []).append(row)
    found = {}
    for business_id, day in keys:
        then = [texts for texts in by_business.get(business_id, {}).values() if texts[0].published_on <= day]
        if then:
            found[(business_id, day)] = _publication(then[-1])
    return found


async def version_in_force(session: AsyncSession, business_code: str, day: date) -> list[Publication]:
    """The version in force on `day` (`in_force`) by the business's code, as a list of none or one."""
    business = await get_business(session, business_code)
    found = await in_force(session, [(business.id, day)])
    return [found[(business.id, day)]] if (business.id, day) in found else []


async def get(session: AsyncSession, business_code: str, version: int, lang: str) -> NoticeVersion:
    """The text of one published version in `lang`."""
    business = await get_business(session, business_code)
    lang = _language(lang)
    found = None
    if 1 <= version <= MAX_VERSION:
        found = (await session.exec(select(NoticeVersion).where(
            NoticeVersion.business_id == business.id, NoticeVersion.version == version,
            NoticeVersion.lang == lang))).first()
    if found is None:
        raise NotFound(f"the notice of {business.code!r} has no published version {version}", field="version")
    return found


async def latest(session: AsyncSession, business_code: str, lang: str) -> NoticeVersion | None:
    """The text of the latest published version in `lang`; None while the business never published."""
    business = await get_business(session, business_code)
    stmt = (select(NoticeVersion)
            .where(NoticeVersion.business_id == business.id, NoticeVersion.lang == _language(lang))
            .order_by(NoticeVersion.version.desc()).limit(1))
    return (await session.exec(stmt)).first()


async def _rendered(session: AsyncSession, business_code: str, lang: str) -> tuple[str, str]:
    """The notice as it reads now in `lang`: its Markdown and its HTML."""
    return (await render_notice(session, business_code, fmt="markdown", lang=lang),
            await render_notice(session, business_code, fmt="html", lang=lang))


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise InvalidInput(f"Unknown notice language {lang[:16]!r}: use one of {', '.join(LANGUAGES)}", field="lang")
    return lang


def _summaries(business_id: int) -> sa.Select:
    """Each published text's version, day and hash, without the text, newest version first."""
    table = NoticeVersion.__table__.c
    return (sa.select(table.version, table.lang, table.published_on, table.published_at, table.content_hash)
            .where(table.business_id == business_id).order_by(table.version.desc(), table.id))


async def _latest_publication(session: AsyncSession, business_id: int) -> Publication | None:
    table = NoticeVersion.__table__.c
    newest = sa.select(sa.func.max(table.version)).where(table.business_id == business_id).scalar_subquery()
    rows = (await session.exec(_summaries(business_id).where(table.version == newest))).all()
    return _publication(rows) if rows else None


def _publication(rows) -> Publication:
    """One version's texts (rows or records of notice_version, all of one number)."""
    hashes = {row.lang: row.content_hash for row in rows}
    first = rows[0]
    return Publication(version=first.version, published_on=first.published_on, published_at=first.published_at,
                       content_hashes={lang: hashes[lang] for lang in LANGUAGES if lang in hashes})


def _summary(publication: Publication) -> dict:
    """What the audit trail keeps of a publication: its number, day and hashes, not the text."""
    return {"notice_version": publication.version, "published_on": publication.published_on.isoformat(),
            "content_hashes": publication.content_hashes}
