// GraphiQL from the gateway's own bundle: no CDN, no fonts or telemetry from elsewhere.
// Its state (tabs, query, headers) is kept in sessionStorage, never localStorage: the
// Authorization header holds a bearer token.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./graphiql.css";
import { GraphiQL } from "graphiql";
import { useGraphiQL, useGraphiQLActions } from "@graphiql/react";
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { saveToken, savedToken } from "./session.js";

const EXAMPLE_QUERY = `# Who handles the data of customer LIJ-0003 (cancelled)?
# Set a token top right, then run it (Ctrl-Enter).
{
  customerByRef(businessCode: "loveinn-japan", externalRef: "LIJ-0003") {
    status
    handlings(includeExcluded: true) {
      party { name country }
      role excluded exclusionReasons
      purposes { code } dataItems { code }
      contract { reference status }
      chain { name }
    }
  }
}
`;

function headersWith(token) {
  return JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2);
}

// The session's token (set here or on the data map) pre-fills the header.
const DEFAULT_HEADERS = headersWith(savedToken());

async function fetcher(params, options = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(options.headers || {}),
    },
    body: JSON.stringify(params),
  });
  return response.json();
}

// Sets the Authorization header from a token field (the headers editor works too) and
// fetches the schema again with it, so completion and the docs work once a token is given.
function TokenControl() {
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const { introspect } = useGraphiQLActions();
  const [value, setValue] = useState("");

  // the first introspection runs before the headers editor exists: redo it with the header
  useEffect(() => {
    if (headerEditor && savedToken()) introspect();
  }, [headerEditor, introspect]);

  function apply(event) {
    event.preventDefault();
    const token = saveToken(value);
    setValue("");
    if (!token || !headerEditor) return;
    headerEditor.setValue(headersWith(token));
    introspect();
  }

  return (
    <div className="pigw-head">
      <form className="pigw-token" onSubmit={apply} autoComplete="off">
        <input
          id="pigw-token"
          type="password"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          placeholder={savedToken() ? "token set ✓ (replace)" : "paste a bearer token"}
          aria-label="Bearer token"
        />
        <button type="submit">Set token</button>
      </form>
      <a className="pigw-logo" href="/map" title="Open the data map">
        pi-gateway <span>· data map →</span>
      </a>
    </div>
  );
}

createRoot(document.getElementById("graphiql")).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      storage={sessionStorage}
      shouldPersistHeaders={true}
      showPersistHeadersSettings={false}
      defaultEditorToolsVisibility="headers"
      defaultHeaders={DEFAULT_HEADERS}
      defaultQuery={EXAMPLE_QUERY}
      defaultTabs={[{ query: EXAMPLE_QUERY, headers: DEFAULT_HEADERS }]}
    >
      <GraphiQL.Logo>
        <TokenControl />
      </GraphiQL.Logo>
    </GraphiQL>
  </StrictMode>,
);
