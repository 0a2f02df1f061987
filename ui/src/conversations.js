// The conversation list: open (continue), rename, delete.
import { api } from "./api.js";
import { announce, h, icon, relativeTime, replace } from "./dom.js";
import { state } from "./state.js";

let conversations = [];

export async function loadConversations() {
  conversations = await api.conversations();
  return conversations;
}

function confirmDelete(title) {
  const dialog = document.getElementById("confirm-dialog");
  dialog.querySelector(".confirm-text").textContent = `Delete “${title}” and its messages? This cannot be undone.`;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
  });
}

/**
 * Render the list into `list` (a <ul>). `open(id)` shows a conversation; `removed(id)` is called after a delete.
 */
export function renderConversations(list, { open, removed }) {
  if (!conversations.length) {
    replace(list, h("li", { class: "muted empty" }, "No conversations yet"));
    return;
  }
  replace(
    list,
    conversations.map((c) => {
      const current = c.id === state.conversationId;
      const title = c.title || "Untitled";
      const item = h("li", { class: current ? "conversation current" : "conversation", dataset: { id: c.id } });
      const openButton = h(
        "button",
        { type: "button", class: "conversation-open", "aria-current": current ? "page" : false, onclick: () => open(c.id) },
        h("span", { class: "conversation-title" }, title),
        h("span", { class: "conversation-time" }, relativeTime(c.updated_at)),
      );
      const rename = h(
        "button",
        { type: "button", class: "icon-button", "aria-label": `Rename “${title}”`, title: "Rename" },
        icon("edit"),
      );
      const remove = h(
        "button",
        { type: "button", class: "icon-button", "aria-label": `Delete “${title}”`, title: "Delete" },
        icon("trash"),
      );
      rename.addEventListener("click", () => startRename(item, c, list, { open, removed }));
      remove.addEventListener("click", async () => {
        if (!(await confirmDelete(title))) return;
        await api.deleteConversation(c.id);
        conversations = conversations.filter((x) => x.id !== c.id);
        announce(`Deleted “${title}”`);
        removed(c.id);
        renderConversations(list, { open, removed });
      });
      return replace(item, openButton, h("div", { class: "conversation-actions" }, rename, remove));
    }),
  );
}

function startRename(item, conversation, list, handlers) {
  const input = h("input", {
    type: "text",
    class: "rename-input",
    value: conversation.title,
    maxlength: 300,
    "aria-label": "New name for the conversation",
  });
  let finished = false;
  const finish = async (save) => {
    if (finished) return;
    finished = true;
    const title = input.value.trim();
    if (save && title && title !== conversation.title) {
      const updated = await api.renameConversation(conversation.id, title);
      conversation.title = updated.title;
      announce(`Renamed to “${updated.title}”`);
    }
    renderConversations(list, handlers);
    list.querySelector(`[data-id="${CSS.escape(conversation.id)}"] .conversation-open`)?.focus();
  };
  const form = h("form", { class: "rename-form" }, input);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    finish(true);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      finish(false);
    }
  });
  input.addEventListener("blur", () => {
    if (form.isConnected) finish(true);
  });
  replace(item, form);
  input.focus();
  input.select();
}
