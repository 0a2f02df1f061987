// One answer in the conversation: its verified statements as they pass verification (never the model's raw
// draft), then the final answer the platform vouches for, its sources, the statements that could not be
// verified, or a clear "not found in your documents" with the closest sources.
import { announce, h, icon, replace } from "./dom.js";
import { feedbackBar } from "./feedback.js";
import { renderMarkdown } from "./markdown.js";
import { attachSource, headingsBelowTitle } from "./sources.js";

const REFUSAL_TITLE = "Not found in your documents";

function sourceLabel(source) {
  const parts = [source.title || "Untitled document"];
  const headings = headingsBelowTitle(source);
  if (headings.length) parts.push(headings.join(" › "));
  if (source.page) parts.push(`page ${source.page}`);
  return parts.join(" — ");
}

function citationMarker(citation, datastoreIds) {
  const button = h(
    "button",
    {
      type: "button",
      class: "cite",
      "aria-label": `Source ${citation.number}: ${citation.title || "untitled"}`,
      dataset: { cite: String(citation.number) },
    },
    String(citation.number),
  );
  return attachSource(button, citation, datastoreIds);
}

function sourceList(citations, datastoreIds) {
  if (!citations.length) return null;
  return h(
    "section",
    { class: "sources", "aria-label": "Sources" },
    h("h3", { class: "sources-title" }, "Sources"),
    h(
      "ol",
      {},
      citations.map((c) =>
        h(
          "li",
          { value: c.number },
          attachSource(h("button", { type: "button", class: "source-link" }, sourceLabel(c)), c, datastoreIds),
        ),
      ),
    ),
  );
}

function removedClaims(claims, answer) {
  const removed = claims.filter((c) => !c.supported && !answer.includes(c.text.trim()));
  if (!removed.length) return null;
  const count = removed.length === 1 ? "1 statement" : `${removed.length} statements`;
  return h(
    "details",
    { class: "removed" },
    h("summary", {}, icon("warn"), `${count} could not be verified against the sources and ${removed.length === 1 ? "was" : "were"} removed`),
    h(
      "ul",
      {},
      removed.map((c) =>
        h(
          "li",
          {},
          h("q", {}, c.text.trim()),
          c.reasons && c.reasons.length ? h("span", { class: "reasons" }, ` — ${c.reasons.join("; ")}`) : null,
        ),
      ),
    ),
  );
}

function refusalCard(notice, hits, datastoreIds) {
  const closest = (hits || []).slice(0, 5);
  return h(
    "div",
    { class: "notfound", role: "note" },
    h("h3", {}, icon("search"), REFUSAL_TITLE),
    h("p", {}, "The documents you asked don't answer this question, so Groundwork won't guess."),
    notice ? h("p", { class: "notice" }, notice) : null,
    closest.length
      ? [
          h("h4", {}, "Closest sources"),
          h(
            "ul",
            { class: "closest" },
            closest.map((hit) =>
              h(
                "li",
                {},
                attachSource(h("button", { type: "button", class: "source-link" }, sourceLabel(hit)), hit, datastoreIds),
              ),
            ),
          ),
        ]
      : null,
  );
}

function badge(mode) {
  if (mode === "generated") return h("span", { class: "badge ok" }, icon("check"), "Verified against the sources");
  if (mode === "extractive") return h("span", { class: "badge quote" }, icon("file"), "Quoted from the sources");
  return null;
}

/** The final answer's parts, for a streamed `done` and for a stored message alike. */
export function renderFinal(body, extras, result) {
  const { answer, mode, refused, notice, citations = [], claims = [], hits = [], datastoreIds } = result;
  if (refused) {
    replace(body, refusalCard(notice, hits, datastoreIds));
  } else {
    const byNumber = new Map(citations.map((c) => [c.number, c]));
    const flagged = claims.filter((c) => !c.supported && answer.includes(c.text.trim())).map((c) => c.text.trim());
    replace(
      body,
      renderMarkdown(answer, {
        flagged,
        citation: (n) => (byNumber.has(n) ? citationMarker(byNumber.get(n), datastoreIds) : null),
      }),
    );
  }
  replace(
    extras,
    refused ? null : h("div", { class: "answer-meta" }, badge(mode), notice ? h("p", { class: "notice" }, notice) : null),
    refused ? null : sourceList(citations, datastoreIds),
    removedClaims(claims, refused ? "" : answer),
    result.messageId && result.conversationId
      ? feedbackBar({ conversationId: result.conversationId, messageId: result.messageId, current: result.feedback })
      : null,
  );
}

/** A stored assistant message (GET /v1/conversations/{id}). */
export function storedAnswer(message, conversationId, datastoreIds) {
  const body = h("div", { class: "answer-body" });
  const extras = h("div", { class: "answer-extras" });
  const article = h("article", { class: "message assistant", "aria-label": "Answer" }, body, extras);
  if (message.withheld) {
    replace(body, h("p", { class: "notice" }, message.content || "This answer cites a document you can no longer read."));
    return article;
  }
  const details = message.details || {};
  renderFinal(body, extras, {
    answer: message.content,
    mode: details.mode,
    refused: Boolean(details.refused),
    notice: null,
    citations: details.citations || [],
    datastoreIds,
    conversationId,
    messageId: message.id,
    feedback: message.feedback,
  });
  return article;
}

/** An answer being streamed: feed it the events of POST /v1/answer. Only claims the platform has verified
 * arrive (`claim` events), each with its citations: they are shown as they come, with their citation chips, and
 * the final answer (`done`) is exactly those claims, so nothing shown is ever taken back. */
export class AnswerView {
  constructor(datastoreIds) {
    this.datastoreIds = datastoreIds;
    this.answer = "";
    this.hits = [];
    this.sources = new Map();
    this.flagged = [];
    this.notices = [];
    this.finished = false;
    this.status = h("p", { class: "message-status" }, h("span", { class: "spinner", "aria-hidden": "true" }), h("span", {}, "Searching your documents…"));
    this.body = h("div", { class: "answer-body verified" });
    this.extras = h("div", { class: "answer-extras" });
    this.element = h("article", { class: "message assistant", "aria-label": "Answer", "aria-busy": "true" }, this.status, this.body, this.extras);
    this.pending = false;
  }

  setStatus(text) {
    this.status.lastChild.textContent = text;
  }

  renderClaims() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      if (this.finished) return;
      replace(
        this.body,
        renderMarkdown(this.answer, {
          highlight: false,
          flagged: this.flagged,
          citation: (n) => (this.sources.has(n) ? citationMarker(this.sources.get(n), this.datastoreIds) : null),
        }),
      );
    });
  }

  handle({ event, data }) {
    if (event === "retrieval") {
      this.hits = data.hits || [];
      this.setStatus(this.hits.length ? `Found ${this.hits.length} passages. Checking each statement against its source…` : "No passages found.");
    } else if (event === "claim") {
      if (!this.answer) this.element.classList.add("streaming");
      for (const source of data.sources || []) this.sources.set(source.number, source);
      this.answer += (data.separator || "") + data.text;
      if (data.verdict !== "supported") this.flagged.push(data.text.trim());
      this.setStatus("Verified statements so far; checking the next…");
      this.renderClaims();
    } else if (event === "notice") {
      this.notices.push(data.text);
      this.setStatus(data.text);
    } else if (event === "done") {
      this.done(data);
    } else if (event === "error") {
      this.failed(new Error(data.message || "The answer failed."));
    }
  }

  done(data) {
    this.finished = true;
    this.element.classList.remove("streaming");
    this.status.remove();
    this.element.setAttribute("aria-busy", "false");
    this.element.dataset.mode = data.mode;
    const citations = data.citations || [];
    renderFinal(this.body, this.extras, {
      answer: data.answer,
      mode: data.mode,
      refused: data.refused,
      notice: data.notice,
      citations,
      claims: data.claims || [],
      hits: this.hits,
      datastoreIds: this.datastoreIds,
      conversationId: data.conversation_id,
      messageId: data.message_id,
    });
    announce(data.refused ? REFUSAL_TITLE : `Answer ready, ${citations.length} sources`);
  }

  end(reason, text) {
    if (this.finished) return;
    this.finished = true;
    this.element.classList.remove("streaming");
    this.element.classList.add(reason);
    this.element.setAttribute("aria-busy", "false");
    this.status.remove();
    this.extras.prepend(h("p", { class: "notice" }, icon("warn"), text));
    announce(text);
  }

  stopped() {
    this.end("stopped", this.answer ? "Stopped. The statements above were verified; the answer is incomplete." : "Stopped.");
  }

  failed(error) {
    this.end("failed", `The answer failed: ${error.message}`);
  }

  /** The stream closed without a `done` event (the server went away mid-answer). */
  interrupted() {
    this.end("failed", "The answer was interrupted before it was complete.");
  }
}
