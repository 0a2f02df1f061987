// The Documents dialog: a datastore's documents, new datastores, and uploads (drag and drop or a file picker)
// whose ingestion is followed document by document until indexed, or failed with its reason.
import { ApiError, api } from "./api.js";
import { announce, h, icon, relativeTime, replace } from "./dom.js";
import { canEdit, state } from "./state.js";

const FINAL = new Set(["indexed", "failed", "dead_letter"]);
const STATUS_TEXT = {
  uploading: "Uploading…",
  queued: "Queued",
  parsing: "Parsing…",
  embedding: "Embedding…",
  indexed: "Indexed",
  failed: "Failed",
  dead_letter: "Failed (gave up after retries)",
};
const POLL_MS = 700;

function statusText(status) {
  return STATUS_TEXT[status] || status;
}

export class DocumentsDialog {
  constructor(dialog, { onChange }) {
    this.dialog = dialog;
    this.onChange = onChange;
    this.select = dialog.querySelector("#documents-datastore");
    this.uploads = dialog.querySelector(".upload-list");
    this.table = dialog.querySelector(".document-list");
    this.zone = dialog.querySelector(".dropzone");
    this.input = dialog.querySelector("#upload-input");
    this.privateBox = dialog.querySelector("#upload-private");
    this.createForm = dialog.querySelector(".create-datastore");
    this.editorOnly = dialog.querySelectorAll(".editor-only");
    this.select.addEventListener("change", () => this.refresh());
    this.input.addEventListener("change", () => {
      this.uploadAll([...this.input.files]);
      this.input.value = "";
    });
    for (const type of ["dragenter", "dragover"]) {
      this.zone.addEventListener(type, (event) => {
        event.preventDefault();
        this.zone.classList.add("dragging");
      });
    }
    this.zone.addEventListener("dragleave", () => this.zone.classList.remove("dragging"));
    this.zone.addEventListener("drop", (event) => {
      event.preventDefault();
      this.zone.classList.remove("dragging");
      this.uploadAll([...(event.dataTransfer?.files || [])]);
    });
    this.createForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
  }

  open() {
    const editable = canEdit();
    for (const element of this.editorOnly) element.hidden = !editable;
    const chosen = this.select.value;
    replace(
      this.select,
      state.datastores.map((d) => h("option", { value: d.id }, d.name)),
    );
    const preferred = chosen || [...state.selected][0];
    if (preferred && state.datastores.some((d) => d.id === preferred)) this.select.value = preferred;
    this.dialog.showModal();
    this.refresh();
  }

  async create() {
    const input = this.createForm.querySelector("input");
    const status = this.createForm.querySelector(".form-status");
    try {
      const created = await api.createDatastore(input.value.trim());
      input.value = "";
      status.textContent = `Created ${created.name}`;
      await this.onChange();
      state.selected.add(created.id);
      this.open();
      this.select.value = created.id;
      this.refresh();
    } catch (error) {
      status.textContent = error.message;
    }
  }

  async refresh() {
    const datastore = this.select.value;
    if (!datastore) {
      replace(this.table, h("p", { class: "muted" }, "No datastore yet."));
      return;
    }
    try {
      const { items, total } = await api.documents(datastore);
      replace(
        this.table,
        items.length
          ? h(
              "table",
              {},
              h("caption", { class: "visually-hidden" }, "Documents in this datastore"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Document"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Updated"))),
              h(
                "tbody",
                {},
                items.map((d) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, d.title || d.source_uri),
                    h("td", { class: `status status-${d.status}` }, statusText(d.status), d.failure_reason ? h("span", { class: "reason" }, `: ${d.failure_reason}`) : null),
                    h("td", {}, relativeTime(d.updated_at)),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, "No documents you can read here yet."),
        total > items.length ? h("p", { class: "muted" }, `Showing ${items.length} of ${total}.`) : null,
      );
    } catch (error) {
      replace(this.table, h("p", { class: "error" }, error.message));
    }
  }

  uploadAll(files) {
    const datastore = this.select.value;
    if (!datastore || !files.length) return;
    for (const file of files) this.upload(datastore, file);
  }

  row(file) {
    const status = h("span", { class: "upload-status" }, statusText("uploading"));
    const progress = h("progress", { max: 1, "aria-label": `Progress of ${file.name}` });
    const reason = h("p", { class: "reason", hidden: true });
    const item = h(
      "li",
      { class: "upload status-uploading" },
      h("span", { class: "upload-name" }, icon("file"), file.name),
      status,
      progress,
      reason,
    );
    this.uploads.prepend(item);
    return {
      set: (value, fraction, why) => {
        item.className = `upload status-${value}`;
        item.dataset.status = value;
        status.textContent = statusText(value);
        if (fraction === null) progress.removeAttribute("value");
        else progress.value = fraction;
        reason.hidden = !why;
        reason.textContent = why || "";
      },
    };
  }

  async upload(datastore, file) {
    const row = this.row(file);
    row.set("uploading", null);
    const form = new FormData();
    form.append("file", file, file.name);
    if (this.privateBox.checked && state.me) form.append("acl", JSON.stringify({ users: [state.me.name] }));
    let accepted;
    try {
      accepted = await api.upload(datastore, form);
    } catch (error) {
      const why = error instanceof ApiError ? `${error.message} (${error.code})` : error.message;
      row.set("failed", 0, why);
      announce(`${file.name} was not uploaded: ${why}`);
      return;
    }
    row.set("queued", 0);
    await this.follow(accepted.job.id, accepted.document_id, row, file.name);
  }

  async follow(jobId, documentId, row, name) {
    for (;;) {
      try {
        const [job, documents] = await Promise.all([api.job(jobId), api.jobDocuments(jobId)]);
        const document = documents.find((d) => d.id === documentId) || documents[0];
        const status = document ? document.status : "queued";
        const why = document && document.failure_reason ? `${document.failure_reason} (${document.failure_code})` : null;
        row.set(status, FINAL.has(status) ? 1 : job.progress, why);
        if (FINAL.has(status)) {
          announce(status === "indexed" ? `${name} is indexed` : `${name} failed: ${why || status}`);
          this.refresh();
          this.onChange();
          return;
        }
      } catch (error) {
        row.set("failed", 0, `Lost track of the job: ${error.message}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
