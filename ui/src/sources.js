// Source previews: a citation's passage highlighted in the text around it, with the document's title, heading
// path, page and a way to the original. Hovering or focusing a marker shows a short preview; clicking opens the
// side panel with more context.
import { ApiError, api } from "./api.js";
import { h, icon, replace } from "./dom.js";
import { safeUrl } from "./markdown.js";

const previews = new Map(); // "document:chunk:context" -> Promise<preview>
const homes = new Map(); // document id -> the datastore it was found in

/**
 * The preview of a passage, from the datastore the citation names. Citations stored before they named their
 * datastore are looked up in the question's datastores in turn (a document the caller may not read, or that is
 * elsewhere, is "not found" on every route).
 */
export function loadPreview(source, datastoreIds, contextChars) {
  const key = `${source.document_id}:${source.chunk_id}:${contextChars}`;
  if (!previews.has(key)) {
    const attempt = (async () => {
      const known = source.datastore_id || homes.get(source.document_id);
      const candidates = known ? [known, ...datastoreIds.filter((d) => d !== known)] : datastoreIds;
      for (const datastore of candidates) {
        try {
          const preview = await api.preview(datastore, source.document_id, source.chunk_id, contextChars);
          homes.set(source.document_id, preview.datastore_id || datastore);
          return preview;
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        }
      }
      throw new ApiError(404, "not_found", "This source is no longer available to you.");
    })();
    attempt.catch(() => previews.delete(key));
    previews.set(key, attempt);
  }
  return previews.get(key);
}

/** The heading path below the title (a document's first heading is often its title). */
export function headingsBelowTitle(source) {
  const path = source.heading_path || [];
  return path.length && path[0] === source.title ? path.slice(1) : path;
}

function headingPath(path) {
  if (!path || !path.length) return null;
  return h("p", { class: "source-path" }, path.join(" › "));
}

function passage(preview) {
  const text = preview.text;
  const start = Math.max(0, Math.min(preview.highlight_start, text.length));
  const end = Math.max(start, Math.min(preview.highlight_end, text.length));
  return h(
    "blockquote",
    { class: "source-text" },
    text.slice(0, start),
    h("mark", { class: "source-passage" }, text.slice(start, end)),
    text.slice(end),
  );
}

async function download(preview, status) {
  status.textContent = "Downloading…";
  try {
    const response = await api.file(preview.datastore_id, preview.document_id);
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = disposition.match(/filename="([^"]+)"/)?.[1] || "document";
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: name, class: "visually-hidden" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = `Downloaded ${name}`;
  } catch (error) {
    status.textContent = `Download failed: ${error.message}`;
  }
}

/** The preview as an element; compact for the hover card (no actions). */
export function previewContent(preview, { compact = false } = {}) {
  const page = preview.page ? h("span", { class: "source-page" }, `page ${preview.page}`) : null;
  const body = h(
    "div",
    { class: compact ? "source-preview compact" : "source-preview" },
    h(compact ? "p" : "h3", { class: "source-title" }, preview.title || "Untitled document"),
    headingPath(headingsBelowTitle(preview)),
    page,
    passage(preview),
  );
  if (!compact) {
    const status = h("p", { class: "source-status", role: "status" });
    const original = safeUrl(preview.source_uri);
    body.append(
      h(
        "div",
        { class: "source-actions" },
        h(
          "button",
          { type: "button", class: "button", onclick: () => download(preview, status) },
          icon("file"),
          "Download original",
        ),
        original && /^https?:/i.test(original)
          ? h(
              "a",
              { class: "button", href: original, target: "_blank", rel: "noopener noreferrer nofollow" },
              icon("external"),
              "Open source",
            )
          : null,
      ),
      h("p", { class: "source-uri" }, preview.source_uri),
      status,
    );
  }
  return body;
}

let panelOpener = null;

/** Open the side panel on a source; `source` is a citation or a retrieved hit. */
export async function openSourcePanel(source, datastoreIds, opener) {
  hidePopover();
  const panel = document.getElementById("source-panel");
  const body = panel.querySelector(".panel-body");
  const heading = panel.querySelector("#source-panel-title");
  heading.textContent = source.number ? `Source [${source.number}]` : "Source";
  replace(body, h("p", { class: "muted" }, "Loading the passage…"));
  panel.hidden = false;
  document.body.classList.add("panel-open");
  panelOpener = opener || null;
  heading.focus();
  try {
    replace(body, previewContent(await loadPreview(source, datastoreIds, 1200)));
  } catch (error) {
    replace(body, h("p", { class: "error" }, error.message));
  }
}

export function closeSourcePanel() {
  const panel = document.getElementById("source-panel");
  if (panel.hidden) return false;
  panel.hidden = true;
  document.body.classList.remove("panel-open");
  if (panelOpener && panelOpener.isConnected) panelOpener.focus();
  panelOpener = null;
  return true;
}

let popoverTimer = null;
let popoverFor = null;

export function hidePopover() {
  clearTimeout(popoverTimer);
  const popover = document.getElementById("source-popover");
  if (!popover || popover.hidden) return false;
  popover.hidden = true;
  if (popoverFor) popoverFor.removeAttribute("aria-describedby");
  popoverFor = null;
  return true;
}

function place(popover, anchor) {
  const rect = anchor.getBoundingClientRect();
  const width = Math.min(420, window.innerWidth - 16);
  const left = Math.max(8, Math.min(rect.left, window.innerWidth - width - 8));
  popover.style.width = `${width}px`;
  popover.style.left = `${left + window.scrollX}px`;
  const below = rect.bottom + 8;
  const height = popover.offsetHeight;
  const top = below + height > window.innerHeight && rect.top - height - 8 > 0 ? rect.top - height - 8 : below;
  popover.style.top = `${top + window.scrollY}px`;
}

async function showPopover(anchor, source, datastoreIds) {
  const popover = document.getElementById("source-popover");
  popoverFor = anchor;
  replace(popover, h("p", { class: "muted" }, source.title || "Loading the source…"));
  popover.hidden = false;
  anchor.setAttribute("aria-describedby", "source-popover");
  place(popover, anchor);
  try {
    const preview = await loadPreview(source, datastoreIds, 240);
    if (popoverFor !== anchor) return;
    replace(popover, previewContent(preview, { compact: true }), h("p", { class: "hint" }, "Click to open the source"));
    place(popover, anchor);
  } catch (error) {
    if (popoverFor === anchor) replace(popover, h("p", { class: "error" }, error.message));
  }
}

/** Wire a marker (or any button) to the source: hover or focus previews it, click opens the panel. */
export function attachSource(button, source, datastoreIds) {
  const later = () => {
    clearTimeout(popoverTimer);
    popoverTimer = setTimeout(() => showPopover(button, source, datastoreIds), 250);
  };
  button.addEventListener("mouseenter", later);
  button.addEventListener("focus", later);
  button.addEventListener("mouseleave", hidePopover);
  button.addEventListener("blur", hidePopover);
  button.addEventListener("click", (event) => {
    event.preventDefault();
    openSourcePanel(source, datastoreIds, button);
  });
  return button;
}
