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
