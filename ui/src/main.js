// Entry point: sign-in, then the chat. Wires the views together; each lives in its own module.
import { api, onUnauthorized, setToken } from "./api.js";
import {
  currentSession,
  endSession,
  forget,
  providerSession,
  providers,
  signIn,
  signInError,
  storedToken,
} from "./auth.js";
import { Chat } from "./chat.js";
import { loadConversations, renderConversations } from "./conversations.js";
import { loadDatastores, setupPicker } from "./datastores.js";
import { announce, h, replace } from "./dom.js";
import { IdentitiesDialog } from "./identity.js";
import { closeSourcePanel, hidePopover } from "./sources.js";
import { events, state } from "./state.js";
import { setupTheme } from "./theme.js";
import { DocumentsDialog } from "./uploads.js";

const $ = (selector) => document.querySelector(selector);

const chat = new Chat({
  messages: $("#messages"),
  form: $("#composer"),
  input: $("#question"),
  send: $("#send"),
  stop: $("#stop"),
  hint: $("#composer-hint"),
  onAnswered: () => refreshConversations(),
});
const renderPicker = setupPicker($("#picker"));
const documents = new DocumentsDialog($("#documents-dialog"), { onChange: () => loadDatastores() });
const list = $("#conversation-list");
const identities = new IdentitiesDialog($("#identities-dialog"));

function closeSidebar() {
  document.body.classList.remove("sidebar-open");
  $("#menu-toggle").setAttribute("aria-expanded", "false");
}

async function openConversation(id) {
  closeSidebar();
  chat.stop();
  try {
    const conversation = await api.conversation(id);
    state.conversationId = id;
    const known = conversation.datastore_ids.filter((d) => state.datastores.some((x) => x.id === d));
    if (known.length) state.selected = new Set(known);
    renderPicker();
    chat.update();
    chat.showConversation(conversation);
    refreshList();
    announce(`Opened “${conversation.title}”`);
    $("#question").focus();
  } catch (error) {
    announce(`Could not open the conversation: ${error.message}`);
  }
}

function newConversation() {
  closeSidebar();
  chat.stop();
  state.conversationId = null;
  chat.empty();
  refreshList();
  $("#question").focus();
}

function refreshList() {
  renderConversations(list, {
    open: openConversation,
    removed: (id) => {
      if (id === state.conversationId) newConversation();
    },
  });
}

async function refreshConversations() {
  await loadConversations();
  refreshList();
}

async function showProviders() {
  const offered = await providers();
  const next = encodeURIComponent(window.location.pathname + window.location.search);
  replace(
    $("#providers"),
    offered.map((p) => h("a", { class: "button primary", href: `${p.login_url}?next=${next}` }, `Sign in with ${p.name}`)),
  );
  $("#providers").hidden = $("#providers-or").hidden = offered.length === 0;
}

function showSignIn(message) {
  $("#app").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message || "";
  showProviders();
  $("#token").focus();
}

async function start(me) {
  state.me = me;
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = me.name;
  $("#who-detail").textContent = `${me.role} · ${me.tenant_id}`;
  const via = providerSession() ? ` · via ${providerSession().provider}` : "";
  $("#who-groups").textContent = me.groups.length ? `groups: ${me.groups.join(", ")}${via}` : via.slice(3);
  $("#open-identities").hidden = me.role !== "admin";
  state.conversationId = null;
  chat.empty();
  await Promise.all([loadDatastores(), refreshConversations()]);
  $("#question").focus();
}

async function signOut(message, { local = false } = {}) {
  chat.stop();
  forget();
  const logoutUrl = local ? null : await endSession();
  if (logoutUrl) {
    window.location.assign(logoutUrl); // RP-initiated logout: the provider ends its session too
    return;
  }
  state.me = null;
  state.conversationId = null;
  showSignIn(message);
}

events.addEventListener("change", () => {
  renderPicker();
  chat.update();
});

onUnauthorized(() => signOut("Your session has ended: sign in again.", { local: true }));

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("#signin-submit");
  button.disabled = true;
  $("#signin-error").textContent = "";
  try {
    const me = await signIn($("#token").value, $("#remember").checked);
    $("#token").value = "";
    await start(me);
  } catch (error) {
    $("#signin-error").textContent =
      error.status === 401 ? "That key or token was not accepted." : `Sign-in failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
});

$("#signout").addEventListener("click", () => signOut("You are signed out."));
$("#new-chat").addEventListener("click", newConversation);
$("#open-documents").addEventListener("click", () => documents.open());
$("#open-identities").addEventListener("click", () => identities.open());
$("#menu-toggle").addEventListener("click", () => {
  const open = document.body.classList.toggle("sidebar-open");
  $("#menu-toggle").setAttribute("aria-expanded", String(open));
});
$("#sidebar-scrim").addEventListener("click", closeSidebar);
$("#source-close").addEventListener("click", closeSourcePanel);

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
  if (hidePopover() || closeSourcePanel()) return;
  if (document.body.classList.contains("sidebar-open")) {
    closeSidebar();
    return;
  }
  if (chat.stop()) announce("Stopped");
});

setupTheme($("#theme-toggle"));

const failed = signInError();
const token = storedToken();
if (token) {
  setToken(token);
  api
    .me()
    .then(start)
    .catch((error) => (error.status === 401 ? null : showSignIn(`Cannot reach the server: ${error.message}`)));
} else if (failed) {
  showSignIn(failed);
} else {
  currentSession().then((session) =>
    session
      ? api
          .me()
          .then(start)
          .catch((error) => (error.status === 401 ? null : showSignIn(`Cannot reach the server: ${error.message}`)))
      : showSignIn(),
  );
}
