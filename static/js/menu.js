// The header's actions in one menu on narrow screens (a phone): a button opens and closes
// them; Escape or picking an action closes it and gives the focus back to the button. On
// wide screens the button is hidden (lab.css) and the actions are always shown.

export function wireMenu(toggle, actions) {
  const header = toggle.closest("header");
  const setOpen = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    header.classList.toggle("menu-open", open);
  };
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  actions.addEventListener("click", (event) => {
    if (event.target.closest("button, a") && toggle.getAttribute("aria-expanded") === "true") setOpen(false);
  });
  header.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || toggle.getAttribute("aria-expanded") !== "true") return;
    setOpen(false);
    toggle.focus();
  });
}
