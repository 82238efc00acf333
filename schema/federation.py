"""The served schema as an Apollo Federation v2 subgraph (`pi-gateway serve --federation`).

A company composing subgraphs behind one gateway (Hive Gateway, Apollo Router, Cosmo) asks
"who handles this customer's data and why" on the Customer its own customer or booking
subgraph already serves. The subgraph schema is the served schema plus `_service { sdl }`,
`_entities(representations:)` and these entities (README "Behind a supergraph"):

- `Customer @key(fields: "business { code } externalRef")`: the pair a member or booking
  system names a customer by (its business's code and its own reference; the registry's
  global ID means nothing there). `Business @key(fields: "code")` lets the other subgraph
  declare that nested `business { code }` (as an entity stub, `resolvable: false`).
- `Subcontractor @key(fields: "id") @key(fields: "corporateNumber")`: the registry's ID, or
  Japan's 13-digit corporate number, which a procurement system already holds.
- `Contract @key(fields: "id")`.

`_entities` reads every representation of one key with one read (the operation's loaders),
so N representations cost the same few statements as one; the fields below them are the
served schema's, with its permissions (a VIEWER sees no personal data). A key that names
nothing, or cannot name anything (a foreign global ID, a value that is no string or too
long), answers null at its place; a representation that is no entity of this subgraph is
the caller's error (a gateway never sends one).

The served schema stays as it is: the `@key`s reach this schema alone
(`schema.hooks.type_directives`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from schema import hooks, ids
from schema.errors import bad_argument
from schema.masking import MaskingSchema
from schema.types import Business, Contract, Customer, Subcontractor

FEDERATION_VERSION = "2.7"
MAX_REPRESENTATIONS = 1_000  # one `_entities` call; a gateway asks for a page's entities at once
MAX_KEY_CHARS = 200  # longer than any key the registry stores: it names nothing

KEYS: dict[type, list[Key]] = {
    Customer: [Key(fields="business { code } externalRef")],
    Business: [Key(fields="code")],
    Subcontractor: [Key(fields="id"), Key(fields="corporateNumber")],
    Contract: [Key(fields="id")],
}


class Subgraph(MaskingSchema, strawberry.federation.Schema):
    """The served schema with Federation's `_service` and a batched `_entities`."""

    async def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        return await resolve_entities(info.context, representations)


def subgraph_schema(**options: Any) -> Subgraph:
    """The subgraph schema, built from `build_schema`'s options."""
    with hooks.type_directives(KEYS):
        schema = Subgraph(**options, federation_version=FEDERATION_VERSION)
    hooks.keep_type_directives(schema, KEYS)
    return schema


@dataclass(frozen=True)
class _Reference:
    """One representation: the loader that reads its key, the key (None: it names nothing)
    and how a row becomes its GraphQL object."""

    loader: str
    key: Any
    wrap: Callable[[Any], Any]


async def resolve_entities(context: Any, representations: list[Any]) -> list[Any]:
    """The entity each representation names, or None, in order; one read per kind of key."""
    if len(representations) > MAX_REPRESENTATIONS:
        raise bad_argument(f"At most {MAX_REPRESENTATIONS} representations in one call.", "representations")
    references = [_reference(n, representation) for n, representation in enumerate(representations)]
    keys: dict[str, dict[Any, None]] = {}
    for reference in references:
        if reference.key is not None:
            keys.setdefault(reference.loader, {})[reference.key] = None
    found: dict[str, dict[Any, Any]] = {}
    for loader, wanted in keys.items():
        unique = list(wanted)
        found[loader] = dict(zip(unique, await getattr(context.loaders, loader).load_all(unique)))
    return [_entity(reference, found) for reference in references]


def _entity(reference: _Reference, found: dict[str, dict[Any, Any]]) -> Any:
    row = None if reference.key is None else found[reference.loader][reference.key]
    return None if row is None else reference.wrap(row)


def _reference(n: int, representation: Any) -> _Reference:
    type_name = representation.get("__typename") if isinstance(representation, dict) else None
    if type_name == "Customer":
        business = representation.get("business")
        code = _text(business.get("code")) if isinstance(business, dict) else None
        ref = _text(representation.get("externalRef"))
        return _Reference("customer_by_ref", None if code is None or ref is None else (code, ref), Customer.from_row)
    if type_name == "Business":
        return _Reference("business_by_code", _text(representation.get("code")), Business.from_row)
    if type_name == "Subcontractor" and "id" in representation:
        return _Reference("subcontractor", _global_id(representation["id"], "Subcontractor"), Subcontractor.from_row)
    if type_name == "Subcontractor":
        number = _text(representation.get("corporateNumber"))
        return _Reference("subcontractor_by_corporate_number", number, Subcontractor.from_row)
    if type_name == "Contract":
        return _Reference("contract", _global_id(representation.get("id"), "Contract"), Contract.from_row)
    raise bad_argument(f"Representation {n} names no entity of this subgraph (Customer, Business, Subcontractor, "
                       "Contract).", "representations")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_KEY_CHARS else None


def _global_id(value: Any, type_name: str) -> int | None:
    text = _text(value)
    return None if text is None else ids.decode_as(text, type_name)
