// Plotly.js (1.4 MB of script, served from the installed plotly package) is loaded only once
// the first frame is on screen, so that it never delays it.

let loading = null;

export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = Object.assign(document.createElement("script"), { src: "/vendor/plotly.min.js", async: true });
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        loading = null;
        reject(new Error("the charts could not be loaded"));
      };
      document.head.append(script);
    });
  }
  return loading;
}

// ---------------------------------------------------------------- charts in words
// A chart is an image with a name and, for a screen reader, a description of what it shows
// now. describeChart(node, name, traces, lead) names the chart's node (role img) and writes a
// visually hidden paragraph after it, which the node points to (aria-describedby): `lead`
// (the view's own sentence, optional), then each trace in words, from its data.

let described = 0;

function number(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  if (size !== 0 && (size < 0.001 || size >= 1e5)) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

// A trace's name as words: Plotly's markup (s<sub>l</sub>) read as its text (s l).
function plain(text) {
  return String(text).replace(/<sub>|<sup>/g, " ").replace(/<[^>]*>/g, "").replace(/\s+/g, " ").trim();
}

function numeric(values) {
  return (values ?? []).flat(Infinity).filter((v) => typeof v === "number" && Number.isFinite(v));
}

// One trace in words: a line's first, last, lowest and highest values, a bar chart's tallest
// bar, a heatmap's range.
export function traceWords(trace) {
  const name = plain(trace.name ?? "series");
  if (trace.type === "heatmap" || trace.type === "contour") {
    const values = numeric(trace.z);
    if (!values.length) return `${name}: no values`;
    return `${name}: a grid of ${values.length} values from ${number(Math.min(...values))} to ${number(Math.max(...values))}`;
  }
  const ys = trace.y ?? [];
  const values = numeric(ys);
  if (!values.length) return `${name}: no values`;
  if (trace.type === "bar") {
    const top = Math.max(...values);
    const at = trace.x?.[ys.indexOf(top)];
    return `${name}: ${values.length} bars, the tallest ${number(top)}${at === undefined ? "" : ` at ${number(at)}`}`;
  }
  const low = Math.min(...values);
  const high = Math.max(...values);
  if (values.length === 1 || low === high) return `${name}: ${number(values[0])}`;
  return `${name}: ${values.length} points from ${number(values[0])} to ${number(values[values.length - 1])}, `
    + `lowest ${number(low)}, highest ${number(high)}`;
}

export function describeChart(node, name, traces, lead = "") {
  if (!node.dataset.describedBy) {
    described += 1;
    const note = document.createElement("p");
    note.className = "visually-hidden chart-description";
    note.id = `chart-description-${described}`;
    node.after(note);
    node.dataset.describedBy = note.id;
    node.setAttribute("aria-describedby", note.id);
  }
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", name);
  const words = traces.filter((trace) => trace.showlegend !== false || trace.name).map(traceWords);
  document.getElementById(node.dataset.describedBy).textContent = [lead, ...words].filter(Boolean).join(". ") + ".";
}
