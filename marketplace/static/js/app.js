// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const confirmText = form.getAttribute("data-confirm");
  if (confirmText && !window.confirm(confirmText)) {
    event.preventDefault();
  }
});

// An offer's terms opened on the dataset page count as a view of the offer (the provider's analytics).
document.addEventListener("toggle", (event) => {
  const details = event.target;
  const url = details instanceof HTMLDetailsElement && details.open ? details.getAttribute("data-offer-view") : null;
  if (url && navigator.sendBeacon) {
    navigator.sendBeacon(url);
  }
}, true);

// Escape closes the disclosure (<details>) that has the focus and returns the focus to its summary.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !(event.target instanceof Element)) return;
  const details = event.target.closest("details[open]");
  if (details) {
    details.open = false;
    details.querySelector("summary")?.focus();
  }
});
