// The quote form's milestone rows: "Add a milestone" copies the last row with empty inputs, up to the maximum.
// Without JavaScript the form still offers a few empty rows, and more after each save.
(() => {
  const container = document.querySelector("[data-milestone-rows]");
  const button = document.querySelector("[data-add-milestone]");
  if (!container || !button) return;
  const max = Number(container.getAttribute("data-max") || "20");
  const rows = () => container.querySelectorAll(".milestone-row");
  const refresh = () => { button.hidden = rows().length >= max; };
  button.addEventListener("click", () => {
    const all = rows();
    if (all.length >= max) return;
    const index = all.length;
    const copy = all[all.length - 1].cloneNode(true);
    copy.querySelector("legend").textContent = `Milestone ${index + 1}`;
    copy.querySelectorAll(".field-error").forEach((node) => node.remove());
    copy.querySelectorAll(".has-error").forEach((node) => node.classList.remove("has-error"));
    copy.querySelectorAll("input").forEach((input) => {
      const name = input.name.replace(/^milestones\.\d+\./, `milestones.${index}.`);
      input.name = name;
      input.id = `f-${name.replaceAll(".", "-")}`;
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    copy.querySelectorAll("label").forEach((label) => {
      const target = label.getAttribute("for");
      if (target) label.setAttribute("for", target.replace(/^f-milestones-\d+-/, `f-milestones-${index}-`));
    });
    container.appendChild(copy);
    refresh();
  });
  refresh();
})();
