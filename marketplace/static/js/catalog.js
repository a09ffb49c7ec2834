// Catalog search: progressive enhancement only. Without JavaScript the "Apply filters" button submits the form.
(() => {
  const form = document.getElementById("catalog-search");
  if (!form) {
    return;
  }
  document.documentElement.classList.add("js");
  // A facet or sort change runs the search at once, back on page 1 (the form carries no page field).
  form.addEventListener("change", (event) => {
    const target = event.target;
    if (target.classList.contains("facet-input") || target.id === "sort") {
      form.requestSubmit();
    }
  });
  // Leave empty fields out of the address, so links stay short and shareable.
  form.addEventListener("submit", () => {
    for (const input of form.querySelectorAll("input[name=q]")) {
      if (!input.value.trim()) {
        input.disabled = true;
      }
    }
  });
})();
