// The method's head on the page: its name, summary, papers (short under the name, in full at
// the end of the page), formula, test-time rule and notes.

import { markPicked, shortCitation } from "./picker.js";

const $ = (selector) => document.querySelector(selector);

export function renderHead(method) {
  markPicked($("#picker"), method.id);
  $("#method-name").textContent = method.name;
  $("#method-summary").textContent = method.summary;
  const citation = (paper) => `${paper.authors} (${paper.year}). ${paper.title}. ${paper.venue}.`;
  const paperLink = (paper, text) => Object.assign(document.createElement("a"), {
    href: paper.url, target: "_blank", rel: "noopener", textContent: text, title: citation(paper),
  });
  // Short citations under the name; the full references close the page.
  $("#method-papers").replaceChildren(
    ...method.papers.flatMap((paper, k) => {
      const link = paperLink(paper, `${shortCitation(paper)}, “${paper.title}”`);
      return k === 0 ? [link] : [" · ", link];
    }),
  );
  $("#method-formula").innerHTML = method.formula_mathml; // MathML rendered by the server
  $("#method-test-time").textContent = `Test time: ${method.test_time}`;
  const heading = (text) => Object.assign(document.createElement("h3"), { textContent: text });
  const references = document.createElement("ul");
  references.replaceChildren(...method.papers.map((paper) => {
    const item = document.createElement("li");
    item.append(paperLink(paper, citation(paper)));
    return item;
  }));
  $("#notes").replaceChildren(
    ...(method.notes.length ? [heading("Notes")] : []),
    ...method.notes.map((note) => Object.assign(document.createElement("p"), { textContent: note })),
    heading(method.papers.length > 1 ? "Papers" : "Paper"),
    references,
  );
  document.title = `${method.name} · Dropout Lab`;
}
