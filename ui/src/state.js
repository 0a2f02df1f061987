// What the page knows about the session, shared by the views. Views listen for "change" events.
export const state = {
  me: null,
  datastores: [],
  selected: new Set(),
  conversationId: null,
  streaming: false,
};

export const events = new EventTarget();

export function changed(what) {
  events.dispatchEvent(new CustomEvent("change", { detail: what }));
}

const SELECTION_KEY = "groundwork.datastores";

/** Datastores to ask: the stored choice where those still exist, else all of them. */
export function restoreSelection() {
  const known = new Set(state.datastores.map((d) => d.id));
  let stored = [];
  try {
    stored = JSON.parse(localStorage.getItem(SELECTION_KEY) || "[]");
  } catch {
    stored = [];
  }
  const kept = Array.isArray(stored) ? stored.filter((id) => known.has(id)) : [];
  state.selected = new Set(kept.length ? kept : known);
}

export function saveSelection() {
  localStorage.setItem(SELECTION_KEY, JSON.stringify([...state.selected]));
}

export function datastoreName(id) {
  return state.datastores.find((d) => d.id === id || d.name === id)?.name || id;
}

export function canEdit() {
  return state.me && (state.me.role === "editor" || state.me.role === "admin");
}
