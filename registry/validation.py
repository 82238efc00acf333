"""The shape of input every write checks before it touches the database.

A value that fails here is malformed (`INVALID_INPUT`, the GraphQL input field named),
as opposed to well-formed input that breaks a business rule.

And how a write meets the row it changes: it reads the row with `fetch(..., lock=True)`
before anything else, so writes to one aggregate take turns and each sees what the one
before it committed. Only a write carrying `expectedVersion` can then conflict, when that
is not the version it finds (DESIGN.md "Rules"). SQLite writers take turns anyway (BEGIN
IMMEDIATE, registry/db.py); on PostgreSQL, at READ COMMITTED, the row lock does it.
"""

from collections.abc import Iterable
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.enums import ForeignTransferBasis
from registry.errors import Duplicate, InvalidInput, VersionConflict
from registry.models import utcnow

Row = TypeVar("Row")

# ISO 3166-1 alpha-2: every officially assigned code (DESIGN.md "Countries", APPI Art. 28).
COUNTRIES = frozenset(
    """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS YE YT ZA ZM ZW
""".split()
)


def require_name(value: str | None, *, field: str, max_length: int = 200) -> str:
    """A name is text that is neither blank nor longer than its column allows."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return text


def optional_text(value: str | None, *, field: str, max_length: int) -> str | None:
    """Free text that may be absent; blank counts as absent."""
    text = (value or "").strip()
    return require_name(text, field=field, max_length=max_length) if text else None


def require_country(value: str | None, *, field: str = "country") -> str:
    """Every party has an ISO 3166-1 alpha-2 country (DESIGN.md "Countries")."""
    code = (value or "").strip().upper()
    if code not in COUNTRIES:
        raise InvalidInput(f"{value!r} is not an ISO 3166-1 alpha-2 country code", field=field)
    return code


def check_corporate_number(value: str | None, *, field: str = "corporateNumber") -> str | None:
    """A Japanese corporate number: 13 digits, the first being the check digit of the other
    twelve (National Tax Agency rule: 9 - (sum of P_n * Q_n mod 9), P_n counted from the
    right, Q_n 1 for odd n and 2 for even n). Blank means none."""
    number = (value or "").strip()
    if not number:
        return None
    if len(number) != 13 or not number.isascii() or not number.isdigit():
        raise InvalidInput("a corporate number has exactly 13 digits", field=field)
    base = number[1:][::-1]
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(base, start=1))
    if int(number[0]) != 9 - total % 9:
        raise InvalidInput(f"corporate number {number} has a wrong check digit", field=field)
    return number


def require_codes(codes: Iterable[str], *, field: str) -> list[str]:
    """A non-empty list of codes, stripped, each once, in the order given."""
    unique = list(dict.fromkeys(c.strip() for c in codes))
    if not unique or "" in unique:
        raise InvalidInput(f"{field} must name at least one code, none blank", field=field)
    return unique


def require_order(start: date, end: date, *, field: str) -> None:
    """`end` may not come before `start` (e.g. a contract cannot expire before it begins)."""
    if end < start:
        raise InvalidInput(f"{field} ({end}) is before {start}", field=field)


def require_member(value, enum_cls, *, field: str):
    """One value of a closed vocabulary."""
    try:
        return enum_cls(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a {enum_cls.__name__}", field=field) from None


def foreign_basis(value, *, field: str = "foreignTransferBasis") -> ForeignTransferBasis | None:
    """An APPI Art. 28 basis for a party outside Japan, or None (none recorded)."""
    return None if value is None else require_member(value, ForeignTransferBasis, field=field)


async def fetch(session: AsyncSession, model: type[Row], id: int, *, lock: bool = False) -> Row | None:
    """The `model` row with primary key `id`, or None.

    `lock=True` is for a write about to change the row or its aggregate: it reads the row as
    last committed and holds it until the write ends, so a concurrent writer of the same row
    waits its turn instead of conflicting. The lock is the one PostgreSQL's UPDATE takes
    anyway (FOR NO KEY UPDATE, which lets inserts referencing the row go on), only taken
    first; SQLite needs none. Lock order, against deadlocks: the aggregate before anything
    else, two aggregates always in one order (a request before its customer), the registry
    version row last (only the commit takes it, registry/db.py). Reads never lock.
    """
    if not lock:
        return await session.get(model, id)
    return await session.get(model, id, with_for_update={"key_share": True}, populate_existing=True)


def check_version(row, expected_version: int) -> None:
    """A write carrying expectedVersion applies only to the version its author read
    (DESIGN.md "Rules"): a stale version conflicts, whatever else is wrong. Against a row
    fetched with `lock=True` this is the current version, and it stays so until commit."""
    if row.version != expected_version:
        raise VersionConflict(
            f"{type(row).__name__} {row.id} is at version {row.version}, not {expected_version}",
            field="expectedVersion",
        )


async def update_versioned(session: AsyncSession, row, *, expected_version: int, **values) -> None:
    """Write `values` to `row` only while it is still at `expected_version`, bumping the
    version by exactly one, and refresh `row` from the database. Callers lock the row first
    (`fetch(..., lock=True)`), so the version they pass is the current one; the guard stays
    for a row read without the lock, which then conflicts (VersionConflict, nothing
    written) when another writer changed it in between."""
    model = type(row)
    if "updated_at" in model.model_fields:
        values["updated_at"] = utcnow()
    stmt = (
        sa.update(model)
        .where(model.id == row.id, model.version == expected_version)
        .values(version=model.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if (await session.exec(stmt)).rowcount != 1:
        message = f"{model.__name__} {row.id} was changed by someone else; reload it and retry"
        await session.rollback()
        raise VersionConflict(message, field="expectedVersion")
    await session.refresh(row)


async def insert_unique(session: AsyncSession, row, duplicate: Duplicate) -> None:
    """Insert `row`. Callers look for a duplicate first; the unique constraint catches the
    one a concurrent writer inserted in between, and then nothing is written."""
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise duplicate from None
