// Starts the vendored Swagger UI on /docs (gateway/api/docs.py). A file, not an inline script,
// so the page CSP needs no 'unsafe-inline'. validatorUrl null: no badge fetched from swagger.io.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
  });
});
