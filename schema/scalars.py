"""The Date scalar: a calendar date written `YYYY-MM-DD`, within the range the gateway accepts.

Python's `date.fromisoformat` (Strawberry's default parser) also takes `20260101` and
`2026-W01-1`, and any year from 1 to 9999; a registry date that far out overflows the
arithmetic of retention periods (a provision record kept three years after 9999-12-31).
Dates outside the setting's range (default 1900-01-01..2199-12-31) are the client's
mistake, refused like any value that does not fit its type.
"""

import datetime as dt
import re

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_scalar(earliest: dt.date, latest: dt.date) -> ScalarDefinition:
    def parse_value(value: object) -> dt.date:
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            try:
                parsed = dt.date.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and earliest <= parsed <= latest:
                return parsed
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise StrawberryInputCoercionError(
            f'Value cannot represent a Date: "{shown}". Expected YYYY-MM-DD from {earliest} to {latest}.'
        )

    return ScalarDefinition(
        name="Date", description="A calendar date, YYYY-MM-DD (ISO 8601).", specified_by_url=None,
        serialize=dt.date.isoformat, parse_value=parse_value, parse_literal=None, origin=dt.date,
    )
