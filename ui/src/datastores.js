// The datastore picker: which datastores a question goes to (several may be ticked).
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { changed, restoreSelection, saveSelection, state } from "./state.js";

export async function loadDatastores() {
  state.datastores = await api.datastores();
  restoreSelection();
  changed("datastores");
}

function summary() {
  const names = state.datastores.filter((d) => state.selected.has(d.id)).map((d) => d.name);
  if (!state.datastores.length) return "No datastores";
  if (!names.length) return "Pick datastores";
  if (names.length === state.datastores.length && names.length > 1) return `All datastores (${names.length})`;
  return names.length > 2 ? `${names.slice(0, 2).join(", ")} +${names.length - 2}` : names.join(", ");
}

/** Render the picker into its <details> element and keep it current. */
export function setupPicker(details) {
  const label = details.querySelector(".picker-label");
  const list = details.querySelector(".picker-options");
  const render = () => {
    label.textContent = summary();
    replace(
      list,
      state.datastores.length
        ? state.datastores.map((d) => {
            const id = `ds-${d.id}`;
            const box = h("input", { type: "checkbox", id, value: d.id, checked: state.selected.has(d.id) });
            box.addEventListener("change", () => {
              if (box.checked) state.selected.add(d.id);
              else state.selected.delete(d.id);
              saveSelection();
              changed("selection");
            });
            return h(
              "li",
              {},
              box,
              h("label", { for: id }, d.name, h("span", { class: "muted" }, ` ${d.documents} documents`)),
            );
          })
        : h("li", { class: "muted" }, "No datastore yet: create one under Documents."),
    );
  };
  document.addEventListener("click", (event) => {
    if (details.open && !details.contains(event.target)) details.open = false;
  });
  details.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && details.open) {
      event.stopPropagation();
      details.open = false;
      details.querySelector("summary").focus();
    }
  });
  return render;
}
