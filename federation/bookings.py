"""A tiny booking subgraph for the demo supergraph and the federation tests: fictional bookings
of the demo's customers (registry/demo.py), nothing else.

It stands for the subgraph a company already runs: it owns bookings and knows a customer by
the pair pi-gateway keys Customer on (its business's code and its external reference), so
`customerByRef(...) { bookings { ... } handlings { ... } }` and `bookings { customer {
handlings { ... } } }` both cross the two subgraphs. It needs no token and keeps no state.

    python federation/bookings.py --port 4001   (GraphQL at /graphql)
"""

import argparse
from datetime import date

import strawberry
from strawberry.asgi import GraphQL
from strawberry.federation.schema_directives import Key

BUSINESS = "loveinn-japan"

# (booking, customer's external reference, room, check-in, nights): fictional
BOOKINGS = [
    ("BK-1001", "LIJ-0001", "Shinjuku 201", date(2026, 10, 2), 1),
    ("BK-1002", "LIJ-0001", "Ikebukuro 305", date(2026, 11, 14), 2),
    ("BK-1003", "LIJ-0002", "Shibuya 102", date(2026, 9, 20), 1),
    ("BK-1004", "LIJ-0003", "Ueno 404", date(2025, 12, 24), 1),
    ("BK-1005", "LIJ-0005", "Shinjuku 203", date(2026, 11, 1), 3),
    ("BK-1006", "LIJ-0007", "Kabukicho 501", date(2026, 11, 20), 1),
]


@strawberry.federation.type(keys=[Key(fields="code", resolvable=False)])
class Business:
    code: str


@strawberry.type
class Booking:
    id: strawberry.ID
    room: str
    check_in: date
    nights: int
    customer: "Customer"


@strawberry.federation.type(keys=["business { code } externalRef"])
class Customer:
    business: Business
    external_ref: str

    @strawberry.field(description="The customer's bookings, by check-in.")
    def bookings(self) -> list[Booking]:
        return [booking for booking in all_bookings() if booking.customer.external_ref == self.external_ref
                and self.business.code == BUSINESS]

    @classmethod
    def resolve_reference(cls, business: dict, externalRef: str) -> "Customer":  # noqa: N803 (the key's name)
        return cls(business=Business(code=business.get("code", "")), external_ref=externalRef)


def all_bookings() -> list[Booking]:
    return sorted((Booking(id=strawberry.ID(key), room=room, check_in=check_in, nights=nights,
                           customer=Customer(business=Business(code=BUSINESS), external_ref=ref))
                   for key, ref, room, check_in, nights in BOOKINGS), key=lambda booking: booking.check_in)


@strawberry.type
class Query:
    @strawberry.field(description="Every booking, by check-in.")
    def bookings(self) -> list[Booking]:
        return all_bookings()


schema = strawberry.federation.Schema(query=Query, federation_version="2.7")


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4001)
    args = parser.parse_args()
    uvicorn.run(GraphQL(schema, graphql_ide=None), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
