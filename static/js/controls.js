// The parameter controls, generated from the registry: a slider per number, a select per
// choice, a checkbox per flag; each with a visible label, its value and its help text.

import { element } from "./dom.js";

let uid = 0;

function formatNumber(value, step) {
  if (value === null) return "auto";
  const decimals = step >= 1 ? 0 : Math.min(4, Math.max(0, -Math.floor(Math.log10(step))));
  return Number(value).toFixed(decimals);
}

function numberControl(param, value, onInput, derivedValue) {
  const id = `param-${param.name}-${(uid += 1)}`;
  const helpId = `${id}-help`;
  const output = element("output", { for: id, class: "value", text: formatNumber(value, param.step) });
  const slider = element("input", {
    type: "range",
    id,
    name: param.name,
    min: param.min,
    max: param.max,
    step: param.step,
    value: value ?? param.min,
    "aria-describedby": helpId,
    "data-param": param.name,
  });
  const children = [element("label", { for: id }, [param.label, " ", output]), slider];
  let auto = null;
  if (param.nullable) {
    auto = element("input", { type: "checkbox", id: `${id}-auto`, checked: value === null });
    slider.disabled = value === null;
    children.push(element("label", { for: `${id}-auto`, class: "auto" }, [auto, " auto"]));
    auto.addEventListener("change", () => {
      slider.disabled = auto.checked;
      // Leaving "auto": start from the value auto had, not from the slider's minimum.
      const derived = auto.checked ? null : derivedValue?.(param.name);
      if (derived !== null && derived !== undefined && Number.isFinite(derived)) {
        slider.value = String(Math.min(param.max, Math.max(param.min, derived)));
      }
      const next = auto.checked ? null : Number(slider.value);
      output.textContent = formatNumber(next, param.step);
      onInput(param.name, next, "change");
    });
  }
  const emit = (phase) => {
    const next = param.kind === "int" ? Math.round(Number(slider.value)) : Number(slider.value);
    output.textContent = formatNumber(next, param.step);
    onInput(param.name, next, phase);
  };
  slider.addEventListener("input", () => emit("input"));
  slider.addEventListener("change", () => emit("change"));
  children.push(element("p", { id: helpId, class: "help", text: param.help }));
  return element("div", { class: "control" }, children);
}

function choiceControl(param, value, onInput) {
  const id = `param-${param.name}-${(uid += 1)}`;
  const select = element(
    "select",
    { id, name: param.name, "aria-describedby": `${id}-help`, "data-param": param.name },
    param.choices.map((choice, k) => element("option", { value: choice, selected: choice === value, text: param.choice_labels?.[k] ?? choice })),
  );
  select.addEventListener("change", () => onInput(param.name, select.value, "change"));
  return element("div", { class: "control" }, [
    element("label", { for: id, text: param.label }),
    select,
    element("p", { id: `${id}-help`, class: "help", text: param.help }),
  ]);
}

function boolControl(param, value, onInput) {
  const id = `param-${param.name}-${(uid += 1)}`;
  const box = element("input", { type: "checkbox", id, checked: value, "aria-describedby": `${id}-help`, "data-param": param.name });
  box.addEventListener("change", () => onInput(param.name, box.checked, "change"));
  return element("div", { class: "control" }, [
    element("label", { for: id }, [box, " ", param.label]),
    element("p", { id: `${id}-help`, class: "help", text: param.help }),
  ]);
}

function seedControl(seedParam, value, onInput) {
  const id = `param-seed-${(uid += 1)}`;
  const field = element("input", {
    type: "number", id, min: seedParam.min, max: seedParam.max, step: 1, value, inputmode: "numeric",
    "aria-describedby": `${id}-help`, "data-param": "seed",
  });
  const reroll = element("button", { type: "button", class: "button small", text: "new seed" });
  field.addEventListener("change", () => {
    const next = Math.min(seedParam.max, Math.max(seedParam.min, Math.round(Number(field.value) || 0)));
    field.value = next;
    onInput("seed", next, "change");
  });
  reroll.addEventListener("click", () => {
    const next = Math.floor(Math.random() * 100000);
    field.value = next;
    onInput("seed", next, "change");
  });
  return element("div", { class: "control" }, [
    element("label", { for: id, text: seedParam.label }),
    element("div", { class: "row" }, [field, reroll]),
    element("p", { id: `${id}-help`, class: "help", text: seedParam.help }),
  ]);
}

function control(param, state, onInput, derivedValue) {
  const value = state.params[param.name];
  if (param.kind === "choice") return choiceControl(param, value, onInput);
  if (param.kind === "bool") return boolControl(param, value, onInput);
  return numberControl(param, value, onInput, derivedValue);
}

// Rebuild the form: the method's parameters, then the view's own (what is shown), then the
// seed. onInput(name, value, phase) with phase "input" or "change"; derivedValue(name) gives
// the value a nullable ("auto") parameter currently resolves to.
export function renderControls(form, { methodParams, viewParams, seedParam }, state, onInput, derivedValue) {
  const controls = methodParams.map((param) => control(param, state, onInput, derivedValue));
  if (viewParams.length) {
    controls.push(element("h3", { class: "control-group", text: "shown" }));
    controls.push(...viewParams.map((param) => control(param, state, onInput, derivedValue)));
  }
  if (seedParam) controls.push(seedControl(seedParam, state.seed, onInput));
  form.onsubmit = (event) => event.preventDefault(); // fields drive the page; Enter never submits
  form.replaceChildren(...controls);
}
