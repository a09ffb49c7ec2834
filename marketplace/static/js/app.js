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

// Copy buttons: <button data-copy-target="ID" hidden> copies the text of element ID (the clipboard API, else the
// text is selected and copied the old way) and says so in the nearest [data-copy-status] live region. The button
// stays hidden without JavaScript; the text itself stays selectable either way.
document.querySelectorAll("[data-copy-target]").forEach((button) => {
  const target = document.getElementById(button.getAttribute("data-copy-target"));
  if (!target) return;
  button.hidden = false;
  const status = button.parentElement.querySelector("[data-copy-status]");
  const say = (text) => { if (status) status.textContent = text; };
  const selectTarget = () => {
    const range = document.createRange();
    range.selectNodeContents(target);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  };
  button.addEventListener("click", async () => {
    const text = target.textContent.trim();
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard API");
      await navigator.clipboard.writeText(text);
      say("Copied to the clipboard.");
    } catch (error) {
      selectTarget();
      const copied = document.execCommand && document.execCommand("copy");
      say(copied ? "Copied to the clipboard." : "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
    }
  });
});

// The listing editor's modality section: only the chosen modality's fieldset is shown (all of them for
// multimodal data). The server renders the same choice; a hidden fieldset is also disabled so it is not posted.
document.querySelectorAll("select[data-modality-select]").forEach((select) => {
  const form = select.form;
  const update = () => {
    const chosen = select.value;
    form.querySelectorAll("fieldset[data-modality]").forEach((group) => {
      const show = chosen === "multimodal" || group.getAttribute("data-modality") === chosen;
      group.hidden = !show;
      group.disabled = !show;
    });
    const none = form.querySelector("[data-modality-none]");
    if (none) none.hidden = form.querySelector("fieldset[data-modality]:not([hidden])") !== null;
  };
  select.addEventListener("change", update);
});

// Escape closes the disclosure (<details>) that has the focus and returns the focus to its summary.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !(event.target instanceof Element)) return;
  const details = event.target.closest("details[open]");
  if (details) {
    details.open = false;
    details.querySelector("summary")?.focus();
  }
});
