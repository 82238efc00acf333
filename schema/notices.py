"""Published versions of the privacy notice (registry/notice_versions.py) as GraphQL types.

A version lists its texts, one per language, by content hash; a text's words are read only
when asked for (`text`), one version and language at a time.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import strawberry
from strawberry import Private
from strawberry.types import Info

from registry import notice_versions
from schema.enums import Language, NoticeFormat


@strawberry.type(description="A published notice's text in one language.")
class NoticeText:
    lang: Language = strawberry.field(description="The language of the text.")
    content_hash: str = strawberry.field(description="The SHA-256 of the Markdown text, in hex: what identifies "
                                                     "the text.")
    _business_code: Private[str]
    _version: Private[int]

    @strawberry.field(description="The text as published, as Markdown or as a complete HTML document.")
    async def text(self, info: Info, format: NoticeFormat | None = NoticeFormat.MARKDOWN) -> str:
        kept = await info.context.run(notice_versions.get, self._business_code, self._version, self.lang.value.lower())
        return kept.html if format == NoticeFormat.HTML else kept.markdown


@strawberry.type(description="A published version of a business's privacy notice: what customers were told from "
                             "publishedOn on (APPI Art. 32), kept as it was published, in every language.")
class NoticeVersion:
    version: int = strawberry.field(description="Its number: 1, 2, ... per business; one number covers every "
                                                "language.")
    published_on: date = strawberry.field(description="The day it was published.")
    texts: list[NoticeText] = strawberry.field(description="Its text in each language.")
    _published_at: Private[datetime]

    @strawberry.field(description="When it was published, in the business's time zone.")
    def published_at(self, info: Info) -> datetime:
        return self._published_at.astimezone(ZoneInfo(info.context.clock.timezone))

    @classmethod
    def from_publication(cls, business_code: str, publication: notice_versions.Publication) -> "NoticeVersion":
        return cls(
            version=publication.version, published_on=publication.published_on, _published_at=publication.published_at,
            texts=[NoticeText(lang=Language(lang.upper()), content_hash=digest, _business_code=business_code,
                              _version=publication.version)
                   for lang, digest in publication.content_hashes.items()],
        )
