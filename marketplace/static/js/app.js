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
