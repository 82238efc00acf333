"""The federation tests use the API fixtures of tests/gateway (the real app over HTTP on a copy
of the demo registry, a token per role)."""

from tests.gateway.conftest import api, tuned  # noqa: F401  (fixtures: pytest finds them by these names)

__all__ = ["api", "tuned"]
