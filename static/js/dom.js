// Building DOM nodes: element("p", { class: "help", text: "…" }, [children]).

// Attributes are set as given; `text` sets the text content; true sets an empty attribute,
// and false, null or undefined set nothing.
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}

// A form that never submits (its fields drive the page): the listener, not an inline
// `onsubmit`, which the pages' Content-Security-Policy refuses.
export function quietForm(attributes = {}, children = []) {
  const form = element("form", attributes, children);
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

// An SVG node: svg("line", { x1: 0, … }, [children]); `text` sets the text content.
export function svg(tag, attributes = {}, children = []) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// A view's own stylesheet (static/css/<name>.css), linked once.
export function linkViewStyles(name) {
  if (document.querySelector(`link[data-view-styles="${name}"]`)) return;
  document.head.append(element("link", { rel: "stylesheet", href: `/static/css/${name}.css`, "data-view-styles": name }));
}
