// Thumbs up or down on an answer, with an optional comment; stored with POST .../feedback (the latest counts).
import { api } from "./api.js";
import { announce, h, icon } from "./dom.js";

export function feedbackBar({ conversationId, messageId, current = null }) {
  let rating = current?.rating ?? 0;
  const status = h("span", { class: "feedback-status", role: "status" });
  const up = h("button", { type: "button", class: "icon-button", "aria-label": "Helpful" }, icon("up"));
  const down = h("button", { type: "button", class: "icon-button", "aria-label": "Not helpful" }, icon("down"));
  const comment = h("textarea", { rows: 2, maxlength: 4000, placeholder: "What was good or wrong? (optional)" });
  const commentId = `feedback-comment-${messageId}`;
  comment.id = commentId;
  const form = h(
    "form",
    { class: "feedback-comment", hidden: true },
    h("label", { for: commentId }, "Add a comment"),
    comment,
    h("button", { type: "submit", class: "button" }, "Send comment"),
  );
  if (current?.comment) comment.value = current.comment;

  const show = () => {
    up.setAttribute("aria-pressed", String(rating === 1));
    down.setAttribute("aria-pressed", String(rating === -1));
  };
  const send = async (value, text) => {
    try {
      await api.feedback(conversationId, messageId, value, text);
      rating = value;
      show();
      status.textContent = text ? "Thanks — comment saved" : "Thanks for the feedback";
      announce(status.textContent);
      return true;
    } catch (error) {
      status.textContent = `Feedback not saved: ${error.message}`;
      return false;
    }
  };
  const rate = async (value) => {
    if (await send(value, comment.value.trim())) {
      form.hidden = false;
    }
  };
  up.addEventListener("click", () => rate(1));
  down.addEventListener("click", () => rate(-1));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (rating) await send(rating, comment.value.trim());
  });
  show();
  return h(
    "div",
    { class: "feedback", role: "group", "aria-label": "Feedback on this answer" },
    h("div", { class: "feedback-buttons" }, up, down, status),
    form,
  );
}
