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
