// Hive Gateway's configuration for the demo supergraph and the federation tests.
// pi-gateway decides what a caller may see by the caller's token, so the gateway forwards the
// client's Authorization header to every subgraph; nothing is reported anywhere (no Hive
// registry target or token is configured, so no usage reporting or tracing).
import { defineConfig } from '@graphql-hive/gateway';

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get('authorization') ?? undefined,
      'x-request-id': request.headers.get('x-request-id') ?? undefined,
    }),
  },
});
