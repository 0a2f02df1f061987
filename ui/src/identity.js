// The admins' People dialog: the tenant's users and groups, and where each comes from (local, oidc, scim).
import { api } from "./api.js";
import { h, replace } from "./dom.js";

const SOURCES = { local: "local", oidc: "OIDC sign-in", scim: "SCIM" };

function badge(source) {
  return h("span", { class: "source-badge", title: `Managed by ${SOURCES[source] || source}` }, SOURCES[source] || source);
}

function table(headings, rows) {
  return h(
    "table",
    { class: "identity-table" },
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows),
  );
}

export class IdentitiesDialog {
  constructor(dialog) {
    this.dialog = dialog;
  }

  async open() {
    this.dialog.showModal();
    const users = this.dialog.querySelector(".identity-users");
    const groups = this.dialog.querySelector(".identity-groups");
    replace(users, "Loading…");
    replace(groups);
    try {
      const found = await api.identities();
      replace(
        users,
        table(
          ["Name", "Display name", "Role", "Source", "Groups", "Status"],
          found.users.map((u) =>
            h(
              "tr",
              { dataset: { user: u.name } },
              h("td", {}, u.name),
              h("td", {}, u.display_name),
              h("td", {}, u.role),
              h("td", {}, badge(u.source)),
              h("td", {}, u.groups.join(", ")),
              h("td", {}, u.disabled ? "disabled" : "active"),
            ),
          ),
        ),
      );
      replace(
        groups,
        table(
          ["Name", "Source", "Members"],
          found.groups.map((g) =>
            h("tr", { dataset: { group: g.name } }, h("td", {}, g.name), h("td", {}, badge(g.source)), h("td", {}, g.members.join(", "))),
          ),
        ),
      );
    } catch (error) {
      replace(users, `Could not load the users: ${error.message}`);
    }
  }
}
