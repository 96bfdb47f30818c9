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
