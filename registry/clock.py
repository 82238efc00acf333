"""What "now" and "today" mean for the registry.

Dates are calendar dates in the business's time zone (DESIGN.md: a setting, default
Asia/Tokyo); timestamps are aware datetimes. Tests pass a clock fixed at a known instant.
"""

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Clock:
    timezone: str = "Asia/Tokyo"
    fixed: datetime | None = None  # set in tests: the clock then always reads this instant

    def now(self) -> datetime:
        return (self.fixed or datetime.now(timezone.utc)).astimezone(ZoneInfo(self.timezone))

    def today(self) -> date:
        return self.now().date()

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self.timezone)).date()
