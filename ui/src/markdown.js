// Markdown to DOM, safely. Three layers:
//   1. marked renders with overrides: raw HTML is shown as text, images are never loaded (their alt text is
//      shown), links keep their target only for absolute http(s) and mailto URLs, code is highlighted;
//   2. DOMPurify sanitizes the result against a short allowlist of tags and attributes (no style, no on*,
//      no URLs but http(s)/mailto) and returns a DOM fragment (it is the page's only HTML parser, through its
//      Trusted Types policy: the page's CSP refuses every other HTML sink);
//   3. the fragment is post-processed with DOM calls only: citation markers become buttons, flagged claims are
//      marked, code blocks get a copy button, links open in a new tab without a referrer.
import { DOMPurify, Marked, hljs } from "./vendor.js";
import { h, icon } from "./dom.js";

const SAFE_URL = /^(?:https?:|mailto:)/i;
const FLAG_START = "\uE000";
const FLAG_END = "\uE001";

const PURIFY = {
  ALLOWED_TAGS: [
    "a", "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "span",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
  ],
  ALLOWED_ATTR: ["href", "title", "class", "start", "align"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOWED_URI_REGEXP: SAFE_URL,
  RETURN_DOM_FRAGMENT: true,
};

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("rel", "noopener noreferrer nofollow");
    node.setAttribute("target", "_blank");
  }
});

export function escapeHtml(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** An absolute http(s) or mailto URL, or null. */
export function safeUrl(href) {
  try {
    const url = new URL(href);
    return SAFE_URL.test(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function highlighted(text, lang, highlight) {
  const language = (lang || "").match(/^[\w+#.-]+/)?.[0] || "";
  if (highlight) {
    if (language && hljs.getLanguage(language)) {
      return { html: hljs.highlight(text, { language, ignoreIllegals: true }).value, language };
    }
    if (text.length < 20000) {
      const auto = hljs.highlightAuto(text);
      return { html: auto.value, language: language || auto.language || "" };
    }
  }
  return { html: escapeHtml(text), language };
}

function parser(highlight) {
  return new Marked({
    gfm: true,
    breaks: false,
    async: false,
    renderer: {
      html({ text }) {
        return escapeHtml(text);
      },
      image({ text }) {
        return `<span class="image-ref" title="Images are not loaded">[image: ${escapeHtml(text || "untitled")}]</span>`;
      },
      link({ href, title, tokens }) {
        const inner = this.parser.parseInline(tokens);
        const url = safeUrl(href);
        if (!url) return inner;
        const titled = title ? ` title="${escapeHtml(title)}"` : "";
        return `<a href="${escapeHtml(url)}"${titled}>${inner}</a>`;
      },
      code({ text, lang }) {
        const { html, language } = highlighted(text, lang, highlight);
        const name = language ? ` language-${escapeHtml(language)}` : "";
        return `<pre><code class="hljs${name}">${html}</code></pre>\n`;
      },
    },
  });
}

const PARSERS = { highlight: parser(true), plain: parser(false) };

function textNodes(root, skip) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement?.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  return nodes;
}

function linkCitations(root, citation) {
  for (const node of textNodes(root, "pre, code, a, button")) {
    const text = node.nodeValue;
    const pattern = /\[(\d{1,3})\]/g;
    let match;
    let last = 0;
    const parts = [];
    while ((match = pattern.exec(text)) !== null) {
      const marker = citation(Number(match[1]));
      if (!marker) continue;
      // Punctuation right after a marker stays on its line.
      const end = match.index + match[0].length;
      const trailing = text.slice(end).match(/^[.,;:!?)]+/)?.[0] || "";
      parts.push(text.slice(last, match.index), trailing ? h("span", { class: "cite-group" }, marker, trailing) : marker);
      last = end + trailing.length;
      pattern.lastIndex = last;
    }
    if (!parts.length) continue;
    parts.push(text.slice(last));
    node.replaceWith(...parts.filter((part) => part !== ""));
  }
}

function markFlagged(root) {
  let inside = false;
  for (const node of textNodes(root, "pre")) {
    const text = node.nodeValue;
    if (!inside && !text.includes(FLAG_START)) continue;
    const pieces = [];
    let buffer = "";
    const flush = () => {
      if (!buffer) return;
      if (inside) {
        pieces.push(
          h("span", { class: "claim-unsupported", title: "Not supported by the cited passage" }, buffer),
        );
      } else {
        pieces.push(buffer);
      }
      buffer = "";
    };
    for (const char of text) {
      if (char === FLAG_START || char === FLAG_END) {
        flush();
        if (char === FLAG_END && inside) pieces.push(h("span", { class: "visually-hidden" }, " (not verified)"));
        inside = char === FLAG_START;
      } else {
        buffer += char;
      }
    }
    flush();
    node.replaceWith(...pieces);
  }
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = h("textarea", { class: "clipboard-helper", readonly: true, "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("copy refused");
}

function addCopyButtons(root) {
  for (const pre of root.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const language = [...(code?.classList || [])].find((c) => c.startsWith("language-"))?.slice(9) || "code";
    const label = h("span", { class: "copy-label" }, "Copy");
    const button = h(
      "button",
      {
        type: "button",
        class: "copy-code",
        "aria-label": `Copy ${language} code`,
        onclick: async () => {
          try {
            await copyText(code ? code.textContent : pre.textContent);
            label.textContent = "Copied";
          } catch {
            label.textContent = "Copy failed";
          }
          setTimeout(() => {
            label.textContent = "Copy";
          }, 1500);
        },
      },
      icon("copy"),
      label,
    );
    const wrapper = h("div", { class: "codeblock" }, h("div", { class: "codeblock-bar" }, h("span", {}, language), button));
    pre.replaceWith(wrapper);
    wrapper.append(pre);
    pre.setAttribute("tabindex", "0"); // scrollable: reachable by keyboard
  }
}

/**
 * Render markdown to a DocumentFragment.
 *   citation(n) -> Node | null: the element that replaces a `[n]` marker (null leaves the text as it is);
 *   flagged: sentences to mark as unsupported (exact substrings of the text);
 *   highlight: syntax-highlight code (off while a draft streams: re-rendered on every token).
 */
export function renderMarkdown(text, { citation = null, flagged = [], highlight = true } = {}) {
  let source = String(text).replaceAll(FLAG_START, "").replaceAll(FLAG_END, "");
  for (const sentence of flagged) {
    const at = source.indexOf(sentence);
    if (sentence && at !== -1) {
      source = source.slice(0, at) + FLAG_START + sentence + FLAG_END + source.slice(at + sentence.length);
    }
  }
  const html = (highlight ? PARSERS.highlight : PARSERS.plain).parse(source);
  const fragment = DOMPurify.sanitize(html, PURIFY);
  if (flagged.length) markFlagged(fragment);
  if (citation) linkCitations(fragment, citation);
  addCopyButtons(fragment);
  return fragment;
}
