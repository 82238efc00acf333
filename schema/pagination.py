"""Connection arguments: `first` within the configured maximum, opaque cursors."""

from strawberry.types import Info

from registry import audit
from schema import ids
from schema.errors import bad_argument


def page_args(info: Info, first: int | None, after: str | None) -> tuple[int, int | None]:
    """(first, key after which the page starts), refusing a bad size or cursor."""
    limit = info.context.policy.max_page_size
    size = 50 if first is None else first
    if not 0 <= size <= limit:
        raise bad_argument(f"first must be between 0 and {limit}", "first")
    key = ids.decode_cursor(after)
    if key is False:
        raise bad_argument("after is not a cursor of this connection", "after")
    return size, key


async def audit_page(info: Info, *, first, after, entity_type=None, entity_id=None):
    size, key = page_args(info, first, after)
    return await info.context.run(
        audit.list_events, first=size, before_id=key, entity_type=entity_type, entity_id=entity_id
    )
