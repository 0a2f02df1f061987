// The platform's REST API, as the signed-in principal. Every request carries `Authorization: Bearer <token>`;
// a 401 signs the user out (the key was revoked or the token expired).
import { readEvents } from "./sse.js";

let token = null;
let csrfToken = null;
let unauthorized = () => {};
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

export function setToken(value) {
  token = value;
}

/** The provider session's CSRF token, sent on every state-changing request made with its cookie. */
export function setCsrfToken(value) {
  csrfToken = value;
}

/** Called with the ApiError of any 401 response. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

async function failure(response, quiet) {
  let code = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    } else if (body && body.detail) {
      message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    }
  } catch {
    // not JSON: keep the status line
  }
  const error = new ApiError(response.status, code, message, response.headers.get("X-Request-ID"));
  if (response.status === 401 && !quiet) unauthorized(error);
  return error;
}

/** fetch() a /v1 path as the signed-in principal; throws ApiError for any non-2xx answer. */
export async function request(path, { method = "GET", json, form, signal, accept, bearer, quiet } = {}) {
  const headers = { Accept: accept || "application/json" };
  const credential = bearer ?? token;
  if (credential) headers.Authorization = `Bearer ${credential}`;
  else if (csrfToken && !SAFE.has(method)) headers["X-CSRF-Token"] = csrfToken;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body, signal, cache: "no-store" });
  if (!response.ok) throw await failure(response, quiet);
  return response;
}

export async function getJson(path, options) {
  return (await request(path, options)).json();
}

export async function sendJson(method, path, json) {
  const response = await request(path, { method, json });
  return response.status === 204 ? null : response.json();
}

export const api = {
  me: (bearer) => getJson("/v1/me", { bearer }),
  identities: () => getJson("/v1/admin/identities"),
  datastores: () => getJson("/v1/datastores").then((body) => body.items),
  createDatastore: (name) => sendJson("POST", "/v1/datastores", { name }),
  documents: (datastore, limit = 50) =>
    getJson(`/v1/datastores/${encodeURIComponent(datastore)}/documents?limit=${limit}`),
  upload: (datastore, form) =>
    request(`/v1/datastores/${encodeURIComponent(datastore)}/documents`, { method: "POST", form }).then((r) =>
      r.json(),
    ),
  job: (id) => getJson(`/v1/jobs/${encodeURIComponent(id)}`),
  jobDocuments: (id) => getJson(`/v1/jobs/${encodeURIComponent(id)}/documents`),
  preview: (datastore, documentId, chunkId, contextChars) =>
    getJson(
      `/v1/datastores/${encodeURIComponent(datastore)}/documents/${encodeURIComponent(documentId)}/preview` +
        `?chunk_id=${encodeURIComponent(chunkId)}&context_chars=${contextChars}`,
    ),
  file: (datastore, documentId) =>
    request(`/v1/datastores/${encodeURIComponent(datastore)}/documents/${encodeURIComponent(documentId)}/file`, {
      accept: "*/*",
    }),
  conversations: () => getJson("/v1/conversations?limit=100").then((body) => body.items),
  conversation: (id) => getJson(`/v1/conversations/${encodeURIComponent(id)}`),
  renameConversation: (id, title) => sendJson("PATCH", `/v1/conversations/${encodeURIComponent(id)}`, { title }),
  deleteConversation: (id) => sendJson("DELETE", `/v1/conversations/${encodeURIComponent(id)}`),
  feedback: (conversationId, messageId, rating, comment) =>
    sendJson(
      "POST",
      `/v1/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/feedback`,
      { rating, comment },
    ),
};

/**
 * POST /v1/answer with stream: true; onEvent({event, data}) for retrieval, delta, citations, verification, done.
 * Aborting `signal` closes the connection, and the server stops generating for it.
 */
export async function streamAnswer(body, { signal, onEvent }) {
  const response = await request("/v1/answer", {
    method: "POST",
    json: { ...body, stream: true },
    signal,
    accept: "text/event-stream",
  });
  await readEvents(response, onEvent);
}
