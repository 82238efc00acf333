// The bearer token lives in sessionStorage only: it is gone when the browser session ends
// and is never written to localStorage. Both pages share it (same origin, same key).
const TOKEN_KEY = "pi-gateway:token";

export function savedToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function saveToken(token) {
  const clean = token.trim().replace(/^Bearer\s+/i, "");
  if (clean) sessionStorage.setItem(TOKEN_KEY, clean);
  else sessionStorage.removeItem(TOKEN_KEY);
  return clean;
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// The header's token form (#token-form, #token, #forget-token), the same on every page: a
// saved token runs `start`; forgetting it runs `forgotten`, then says how to begin again.
// Returns the function that shows in the field whether a token is set.
export function bindTokenForm({ start, forgotten, setStatus }) {
  const field = document.querySelector("#token");
  const showTokenState = () => {
    field.placeholder = savedToken() ? "token set for this session ✓" : "paste a bearer token";
  };
  document.querySelector("#token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = saveToken(field.value);
    field.value = "";
    if (token) await start();
    else setStatus("Enter a token to begin.");
  });
  document.querySelector("#forget-token").addEventListener("click", () => {
    forgetToken();
    forgotten();
    showTokenState();
    setStatus("Token forgotten. Enter a token to begin.");
  });
  return showTokenState;
}

export class ApiError extends Error {}

// POST one operation to the gateway's own /graphql; the data, or an ApiError with the
// server's messages (401 without a valid token, GraphQL errors otherwise).
export async function gql(query, variables = {}) {
  const token = savedToken();
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The gateway answered HTTP ${response.status} without JSON.`);
  }
  if (body.errors?.length) {
    throw new ApiError(body.errors.map((e) => e.message).join(" · "));
  }
  if (!response.ok) throw new ApiError(`The gateway answered HTTP ${response.status}.`);
  return body.data;
}
