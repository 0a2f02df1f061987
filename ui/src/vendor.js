// The libraries the UI uses, installed by `npm ci` (ui/package.json) and served from node_modules/ by the
// platform. Only this module names their paths.
export { Marked } from "../node_modules/marked/lib/marked.esm.js";
export { default as DOMPurify } from "../node_modules/dompurify/dist/purify.es.mjs";
export { default as hljs } from "../node_modules/@highlightjs/cdn-assets/es/highlight.min.js";
