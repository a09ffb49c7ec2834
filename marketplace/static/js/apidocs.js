// The API documentation page: Swagger UI (vendored in static/vendor/swagger-ui) on the served OpenAPI document.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    // Deep links would put a link inside each operation's toggle button (nested controls a screen reader and the
    // keyboard cannot tell apart), so the operations stay plain toggle buttons.
    deepLinking: false,
    persistAuthorization: false,
    tryItOutEnabled: false,
    validatorUrl: null,
    onComplete: function () {
      // Swagger UI leaves the server chooser without a name; give it one.
      var servers = document.getElementById("servers");
      if (servers) {
        servers.setAttribute("aria-label", "Server");
      }
    },
  });
})();
