// Sign-in: with an identity provider ("Sign in with ..."), which leaves an HttpOnly session cookie this page
// never sees, or with an API key or a provider's token (a JWT), sent as `Authorization: Bearer`. A key is kept
// in sessionStorage (gone when the tab closes) unless "remember" puts it in localStorage.
import { api, getJson, request, setCsrfToken, setToken } from "./api.js";

const KEY = "groundwork.token";
let session = null;

export function storedToken() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
}

/** Check the credential with GET /v1/me; store it and return who it is. Throws ApiError when refused. */
export async function signIn(token, remember) {
  const credential = token.trim().replace(/^Bearer\s+/i, "");
  const me = await api.me(credential);
  forget();
  (remember ? localStorage : sessionStorage).setItem(KEY, credential);
  setToken(credential);
  return me;
}

export function forget() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  setToken(null);
}

/** The identity providers to offer: [{id, name, login_url}] (none when the server has none). */
export async function providers() {
  try {
    return await getJson("/auth/providers");
  } catch {
    return [];
  }
}

/** The browser's provider session, if it has one: {name, groups, provider, csrf_token, ...}, else null. */
export async function currentSession() {
  try {
    session = await getJson("/auth/session", { quiet: true });
  } catch {
    session = null;
  }
  setCsrfToken(session ? session.csrf_token : null);
  return session;
}

export function providerSession() {
  return session;
}

/** End the provider session here; resolves to the provider's logout URL when it has one (RP-initiated). */
export async function endSession() {
  if (!session) return null;
  session = null;
  try {
    const response = await request("/auth/logout", { method: "POST", quiet: true });
    return (await response.json()).logout_url;
  } catch {
    return null;
  } finally {
    setCsrfToken(null);
  }
}

const REASONS = {
  wrong_state: "the sign-in could not be matched to this browser; try again",
  wrong_browser: "the sign-in was started in another browser",
  sign_in_expired: "the sign-in took too long; try again",
  user_disabled: "your account is disabled",
  unknown_user: "your account is not registered here",
  provider_error: "the identity provider refused the sign-in",
};

/** The message for a failed provider sign-in (`?sign_in_error=<reason>`), or null; the URL is cleaned up. */
export function signInError() {
  const url = new URL(window.location.href);
  const reason = url.searchParams.get("sign_in_error");
  if (!reason) return null;
  url.searchParams.delete("sign_in_error");
  window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  return `Sign-in failed: ${REASONS[reason] || reason.replaceAll("_", " ")}.`;
}
