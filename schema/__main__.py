"""`python -m schema` prints the served SDL (committed as schema.graphql); with `--federation`,
the SDL of the Apollo Federation v2 subgraph (schema/federation.py)."""

import sys

from schema import build_schema

print(build_schema(federation="--federation" in sys.argv[1:]).as_str())
