"""`python -m schema` prints the served SDL (committed as schema.graphql)."""

from schema import build_schema

print(build_schema().as_str())
