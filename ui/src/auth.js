// Sign-in with an API key or an identity provider's token (a JWT), both sent as `Authorization: Bearer`.
// The credential is kept in sessionStorage (gone when the tab closes) unless "remember" puts it in localStorage.
import { api, setToken } from "./api.js";

const KEY = "groundwork.token";

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
