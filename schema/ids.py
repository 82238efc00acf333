"""Opaque global IDs: base64url of "TypeName:key", as Relay clients expect.

Clients must treat them as opaque; the form is stable so that links and bookmarks
survive restarts. A malformed or foreign ID decodes to None, never to an error page.
"""

import base64
import binascii
from functools import lru_cache

MAX_KEY = 2**31 - 1  # id columns are 32-bit integers: a larger key names nothing

NODE_TYPES = frozenset({
    "Business", "Purpose", "DataItem", "Subcontractor", "Contract", "Entrustment",
    "ThirdPartyRecipient", "Provision", "ProvisionRecord", "Customer",
    "DataSubjectRequest", "AuditEvent", "JointUse",
})


@lru_cache(maxsize=16_384)  # a data map repeats the same few purposes and items thousands of times
def encode(type_name: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def decode(global_id: str) -> tuple[str, int] | None:
    """(type name, key) of a global ID, or None when it is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, key = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        number = int(key)
    except (ValueError, UnicodeError, binascii.Error):
        return None
    if type_name not in NODE_TYPES or not 1 <= number <= MAX_KEY or key != str(number):
        return None
    return type_name, number


def decode_as(global_id: str, type_name: str) -> int | None:
    """The key of a global ID of the given type, else None."""
    decoded = decode(global_id)
    return decoded[1] if decoded and decoded[0] == type_name else None


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None | bool:
    """The key in a cursor; None for no cursor; False for a malformed one."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        prefix, _, key = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        number = int(key)
    except (ValueError, UnicodeError, binascii.Error):
        return False
    return number if prefix == "cursor" and 0 <= number <= MAX_KEY and key == str(number) else False
