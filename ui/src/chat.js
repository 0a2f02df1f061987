// The conversation pane: messages, the question box, and the streaming answer with its stop button.
import { streamAnswer } from "./api.js";
import { AnswerView, storedAnswer } from "./answer.js";
import { announce, h, replace } from "./dom.js";
import { changed, datastoreName, state } from "./state.js";

export class Chat {
  constructor({ messages, form, input, send, stop, hint, onAnswered }) {
    this.messages = messages;
    this.form = form;
    this.input = input;
    this.sendButton = send;
    this.stopButton = stop;
    this.hint = hint;
    this.onAnswered = onAnswered;
    this.controller = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.ask();
      }
    });
    input.addEventListener("input", () => this.resize());
    stop.addEventListener("click", () => this.stop());
  }

  resize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 240)}px`;
  }

  /** Enable or disable asking, with the reason in the hint below the box. */
  update() {
    const none = state.selected.size === 0;
    this.sendButton.disabled = state.streaming || none;
    this.stopButton.hidden = !state.streaming;
    this.sendButton.hidden = state.streaming;
    this.hint.textContent = none
      ? "Pick at least one datastore to ask."
      : `Asking ${[...state.selected].map(datastoreName).join(", ")} · Enter to send, Shift+Enter for a new line, Esc to stop`;
  }

  empty() {
    replace(
      this.messages,
      h(
        "div",
        { class: "empty-state" },
        h("h2", {}, "Ask your documents"),
        h("p", {}, "Every statement in an answer is checked against the passage it cites. Hover or click a [1] to see the source; when the documents don't say, Groundwork tells you."),
      ),
    );
  }

  scroll() {
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  showConversation(conversation) {
    const datastores = conversation.datastore_ids;
    replace(
      this.messages,
      conversation.messages.map((m) =>
        m.role === "user"
          ? h("article", { class: "message user", "aria-label": "Question" }, h("p", {}, m.content))
          : storedAnswer(m, conversation.id, datastores),
      ),
    );
    this.scroll();
  }

  async ask() {
    const question = this.input.value.trim();
    if (!question || state.streaming || !state.selected.size) return;
    const datastoreIds = [...state.selected];
    if (this.messages.querySelector(".empty-state")) replace(this.messages);
    this.messages.append(h("article", { class: "message user", "aria-label": "Question" }, h("p", {}, question)));
    const view = new AnswerView(datastoreIds);
    this.messages.append(view.element);
    this.input.value = "";
    this.resize();
    this.scroll();
    this.controller = new AbortController();
    state.streaming = true;
    changed("streaming");
    announce("Searching your documents");
    const body = { question, datastore_ids: datastoreIds };
    if (state.conversationId) body.conversation_id = state.conversationId;
    let conversationId = null;
    try {
      await streamAnswer(body, {
        signal: this.controller.signal,
        onEvent: (event) => {
          view.handle(event);
          if (event.event === "done") conversationId = event.data.conversation_id;
          this.scroll();
        },
      });
      if (!view.finished) view.interrupted();
    } catch (error) {
      if (error.name === "AbortError") view.stopped();
      else view.failed(error);
    } finally {
      this.controller = null;
      state.streaming = false;
      changed("streaming");
      this.input.focus();
    }
    if (conversationId) {
      state.conversationId = conversationId;
      this.onAnswered(conversationId);
    }
  }

  /** Stop the answer being generated: the fetch is aborted, and the server stops the model's request. */
  stop() {
    if (!this.controller) return false;
    this.controller.abort();
    return true;
  }
}
