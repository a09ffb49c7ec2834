// The API documentation page: Swagger UI (vendored in static/vendor/swagger-ui) on the served OpenAPI document.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }

  // Swagger UI (since 5.x, with no option to turn it off) virtualises the operation list once it has 150 rows or
  // more (tags plus operations): only the rows inside the viewport are in the page, the rest is empty padding filled
  // in as the window scrolls. The marketplace's API is past that size, and a virtualised list hides most operations
  // from screen readers' reading and heading navigation, from the browser's find in page and from printing. This
  // plugin puts back Swagger UI's own non-virtualised rendering of the list (the same components, all of them in
  // the page at once), which renders the whole API without trouble.
  function allOperations(React) {
    var h = React.createElement;
    return function Operations(props) {
      var specSelectors = props.specSelectors;
      var getComponent = props.getComponent;
      var tagged = specSelectors.taggedOperations();
      if (tagged.size === 0) {
        return h("h3", null, "No operations defined in spec!");
      }
      var methods = specSelectors.validOperationMethods();
      var OperationTag = getComponent("OperationTag");
      var OperationContainer = getComponent("OperationContainer", true);
      return h(
        "div",
        null,
        tagged
          .map(function (tagObj, tag) {
            var operations = tagObj
              .get("operations")
              .map(function (op) {
                var path = op.get("path");
                var method = op.get("method");
                if (methods.indexOf(method) === -1) {
                  return null;
                }
                return h(OperationContainer, {
                  key: path + "-" + method,
                  specPath: op.get("specPath"),
                  op: op,
                  path: path,
                  method: method,
                  tag: tag,
                });
              })
              .toArray();
            return h(
              OperationTag,
              {
                key: "operation-" + tag,
                tagObj: tagObj,
                tag: tag,
                oas3Selectors: props.oas3Selectors,
                layoutSelectors: props.layoutSelectors,
                layoutActions: props.layoutActions,
                getConfigs: props.getConfigs,
                getComponent: getComponent,
                specUrl: specSelectors.url(),
              },
              h("div", { className: "operation-tag-content" }, operations),
            );
          })
          .valueSeq()
          .toArray(),
      );
    };
  }

  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    plugins: [
      function (system) {
        return { components: { operations: allOperations(system.React) } };
      },
    ],
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
