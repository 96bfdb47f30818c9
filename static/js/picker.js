// The method picker: every method of the registry, grouped by family, with its paper,
// its one-line summary and the view it is shown on.

function surname(author) {
  return author.trim().split(" ").pop();
}

export function shortCitation(paper) {
  const authors = paper.authors.split(",");
  if (authors.length === 1) return `${surname(authors[0])} ${paper.year}`;
  if (authors.length === 2) return `${surname(authors[0])} & ${surname(authors[1])} ${paper.year}`;
  return `${surname(authors[0])} et al. ${paper.year}`;
}

export function viewBadge(method, catalog) {
  if (method.built_views.length) return `on ${method.built_views.map((view) => catalog.views[view]).join(", ")}`;
  return `${method.views.map((view) => catalog.views[view]).join(", ")}: view not built yet`;
}

// The switcher between the views of a method that has several: built ones as tabs, the
// others named and disabled, so that the page says what is still to come.
export function renderViewTabs(nav, method, catalog, current, onPick) {
  const tabs = method.views.map((id) => {
    const built = method.built_views.includes(id);
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.dataset.view = id;
    tab.textContent = built ? catalog.views[id] : `${catalog.views[id]} (coming)`;
    tab.disabled = !built;
    tab.setAttribute("aria-selected", String(id === current));
    tab.tabIndex = id === current ? 0 : -1;
    tab.addEventListener("click", () => onPick(id));
    return tab;
  });
  // Arrow keys move between the tabs, as a tab list does.
  nav.onkeydown = (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const enabled = tabs.filter((tab) => !tab.disabled);
    const at = enabled.indexOf(document.activeElement);
    if (at < 0) return;
    event.preventDefault();
    const next = enabled[(at + (event.key === "ArrowRight" ? 1 : -1) + enabled.length) % enabled.length];
    next.focus();
    onPick(next.dataset.view);
  };
  nav.replaceChildren(...tabs);
  nav.hidden = method.built_views.length < 2;
}

export function renderPicker(nav, catalog, onPick) {
  const sections = catalog.families.map((family) => {
    const section = document.createElement("section");
    const heading = document.createElement("h2");
    heading.textContent = family.label;
    const list = document.createElement("ul");
    for (const method of catalog.methods.filter((m) => m.family === family.id)) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = `method${method.built_views.length ? "" : " no-view"}`;
      button.dataset.method = method.id;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = method.name;
      const paper = document.createElement("span");
      paper.className = "paper";
      paper.textContent = shortCitation(method.papers[0]);
      const summary = document.createElement("span");
      summary.className = "summary";
      summary.textContent = method.summary;
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = viewBadge(method, catalog);
      button.append(name, paper, summary, badge);
      button.addEventListener("click", () => onPick(method.id));
      item.append(button);
      list.append(item);
    }
    section.append(heading, list);
    return section;
  });
  nav.replaceChildren(...sections);
  for (const [k, button] of [...nav.querySelectorAll("button.method")].entries()) button.tabIndex = k === 0 ? 0 : -1;
  wirePickerKeys(nav);
}

// One tab stop for the whole list (the current method); the up and down arrows move between
// the methods, Home and End to the first and the last; Enter or Space picks the focused one.
// Left and right stay the player's (a step), as everywhere on the page.
function wirePickerKeys(nav) {
  const moves = { ArrowDown: 1, ArrowUp: -1 };
  nav.addEventListener("keydown", (event) => {
    const buttons = [...nav.querySelectorAll("button.method")];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    let next = null;
    if (event.key in moves) next = buttons[(at + moves[event.key] + buttons.length) % buttons.length];
    else if (event.key === "Home") next = buttons[0];
    else if (event.key === "End") next = buttons[buttons.length - 1];
    if (!next) return;
    event.preventDefault();
    for (const button of buttons) button.tabIndex = button === next ? 0 : -1;
    next.focus();
  });
}

// The same list as a <select> with a group per family, for narrow screens and projectors.
export function renderMethodSelect(select, catalog, onPick) {
  select.replaceChildren(...catalog.families.map((family) => {
    const group = document.createElement("optgroup");
    group.label = family.label;
    for (const method of catalog.methods.filter((m) => m.family === family.id)) {
      const suffix = method.built_views.length ? "" : ` (${viewBadge(method, catalog)})`;
      group.append(new Option(`${method.name}${suffix}`, method.id));
    }
    return group;
  }));
  select.addEventListener("change", () => onPick(select.value));
}

export function markPicked(nav, methodId) {
  const select = document.getElementById("method-select");
  if (select) select.value = methodId;
  const buttons = [...nav.querySelectorAll("button.method")];
  const picked = buttons.some((button) => button.dataset.method === methodId);
  for (const [k, button] of buttons.entries()) {
    const current = button.dataset.method === methodId;
    if (current) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    button.tabIndex = current || (!picked && k === 0) ? 0 : -1;
  }
}
