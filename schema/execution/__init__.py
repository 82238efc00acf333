"""How read queries are executed: one component, made by the app and handed down.

- `executor.py`: the fast executor. It walks a validated query level by level, resolving a
  whole level of a field at once, and gives graphql-core's exact answer or steps aside for a
  named reason (`FastPath`: its switches, its counts on /metrics, its strict mode for the
  tests, and what it keeps across operations: the completed answers of shared objects, the
  variables each selection uses, the reads a timeout cut off while they finish).
- `batching.py`: fields declared as one DataLoader read (`batched`), resolved per object by
  graphql-core and per level by the executor; GraphQL objects built once per row (`shared`).
- schema/hooks.py: the private parts of Strawberry and asyncio this relies on.

Which types' answers may be reused across operations is declared next to the types
(`schema.types.SHARED_TYPES`) and checked by tests/schema/test_fast.py. The registry's cache
of business contexts (`registry.handling.BusinessContexts`) is made by the app too and reaches
the resolvers through the operation's context. Nothing here keeps state at module level.
"""

from schema.execution.executor import FastExecution, FastPath, StepAsideRefused, execute_fast, unplanned_fields

__all__ = ["FastExecution", "FastPath", "StepAsideRefused", "execute_fast", "unplanned_fields"]
