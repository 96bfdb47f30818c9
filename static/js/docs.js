// The API's documentation (/docs): Swagger UI from the installed package, started from this
// file rather than from an inline script, which the pages' Content-Security-Policy forbids.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  // No deep links: Swagger UI renders each as a link inside the operation's summary button,
  // which assistive technology can neither reach nor announce (axe: nested-interactive).
  deepLinking: false,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
