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
  if (method.image_view) return "on the image";
  return `${method.views.map((view) => catalog.views[view]).join(", ")}: view not built yet`;
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
      button.className = `method${method.image_view ? "" : " no-view"}`;
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
}

// The same list as a <select> with a group per family, for narrow screens and projectors.
export function renderMethodSelect(select, catalog, onPick) {
  select.replaceChildren(...catalog.families.map((family) => {
    const group = document.createElement("optgroup");
    group.label = family.label;
    for (const method of catalog.methods.filter((m) => m.family === family.id)) {
      const suffix = method.image_view ? "" : ` (${viewBadge(method, catalog)})`;
      group.append(new Option(`${method.name}${suffix}`, method.id));
    }
    return group;
  }));
  select.addEventListener("change", () => onPick(select.value));
}

export function markPicked(nav, methodId) {
  const select = document.getElementById("method-select");
  if (select) select.value = methodId;
  for (const button of nav.querySelectorAll("button.method")) {
    if (button.dataset.method === methodId) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}
