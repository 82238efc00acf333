"""Provision records (APPI Art. 29) as a connection, filtered per customer, recipient and period.

A record holds no personal data beyond IDs, so any role that reads the registry may list
them; the customer's own personal fields stay hidden by their own rule.
"""

from datetime import date

import strawberry

from registry.pages import Page
from schema import ids
from schema.errors import bad_argument
from schema.types import PageInfo, ProvisionRecord


@strawberry.input(description="Which provision records to list; every criterion given must hold.")
class ProvisionRecordFilter:
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="Records about this customer.")
    recipient_id: strawberry.ID | None = strawberry.field(
        default=None, description="Records of provisions to this third-party recipient."
    )
    provided_from: date | None = strawberry.field(default=None, description="Provided on or after this date.")
    provided_to: date | None = strawberry.field(default=None, description="Provided on or before this date.")

    def criteria(self) -> dict:
        """The registry's keyword arguments; an ID of anything else is a clear error."""
        return dict(
            customer_id=_key(self.customer_id, "Customer", "customerId"),
            recipient_id=_key(self.recipient_id, "ThirdPartyRecipient", "recipientId"),
            provided_from=self.provided_from,
            provided_to=self.provided_to,
        )


def _key(global_id: str | None, type_name: str, field: str) -> int | None:
    if global_id is None:
        return None
    key = ids.decode_as(global_id, type_name)
    if key is None:
        raise bad_argument(f"{field} is not the ID of a {type_name}", field)
    return key


@strawberry.type(description="One ProvisionRecord of a page, with its cursor.")
class ProvisionRecordEdge:
    cursor: str
    node: ProvisionRecord


@strawberry.type(description="A page of provision records, in the order they were written.")
class ProvisionRecordConnection:
    edges: list[ProvisionRecordEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many records the filter selects, over all pages.")

    @classmethod
    def from_page(cls, page: Page) -> "ProvisionRecordConnection":
        edges = [ProvisionRecordEdge(cursor=ids.encode_cursor(r.id), node=ProvisionRecord.from_row(r))
                 for r in page.items]
        info = PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None)
        return cls(edges=edges, page_info=info, total_count=page.total)
