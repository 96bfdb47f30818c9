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
