// Light and dark themes: the system's preference until the user picks one with the toggle.
import { icon, replace } from "./dom.js";

const KEY = "groundwork.theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

function current() {
  return document.documentElement.dataset.theme || (media.matches ? "dark" : "light");
}

function apply(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

export function setupTheme(button) {
  apply(localStorage.getItem(KEY));
  const label = () => {
    const next = current() === "dark" ? "light" : "dark";
    button.setAttribute("aria-label", `Switch to the ${next} theme`);
    button.title = `Switch to the ${next} theme`;
    replace(button, icon(next === "dark" ? "moon" : "sun"));
  };
  button.addEventListener("click", () => {
    const next = current() === "dark" ? "light" : "dark";
    localStorage.setItem(KEY, next);
    apply(next);
    label();
  });
  media.addEventListener("change", label);
  label();
}
