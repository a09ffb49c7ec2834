// The dataset page: accessible tabs (WAI-ARIA tabs pattern); copy buttons are app.js's. Progressive enhancement only:
// without JavaScript every tab is a link (?tab=NAME) and the server shows that panel.
(() => {
  const root = document.querySelector("[data-tabs]");
  if (root) {
    const tabs = Array.from(root.querySelectorAll('[role="tab"]'));
    const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));

    const select = (tab, { focus = false, remember = true } = {}) => {
      tabs.forEach((other) => {
        const selected = other === tab;
        other.setAttribute("aria-selected", selected ? "true" : "false");
        other.tabIndex = selected ? 0 : -1;
        panelOf(other).hidden = !selected;
      });
      if (focus) tab.focus();
      if (remember) {
        const url = new URL(window.location.href);
        url.searchParams.set("tab", tab.dataset.tab);
        url.hash = "";
        window.history.replaceState(null, "", url);
      }
    };

    tabs.forEach((tab, index) => {
      tab.addEventListener("click", (event) => {
        event.preventDefault();
        select(tab);
      });
      tab.addEventListener("keydown", (event) => {
        const last = tabs.length - 1;
        const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: last };
        if (!(event.key in moves)) return;
        event.preventDefault();
        const target = moves[event.key];
        select(tabs[target < 0 ? last : target > last ? 0 : target], { focus: true });
      });
    });

    // A fragment naming a tab (#licenses, #versions…) or anything inside a panel (#compare, #access) opens it.
    const openFragment = () => {
      const id = decodeURIComponent(window.location.hash.slice(1));
      if (!id) return;
      const byName = tabs.find((tab) => tab.dataset.tab === id);
      const element = document.getElementById(id);
      const panel = element && element.closest('[role="tabpanel"]');
      const tab = byName || (panel && tabs.find((t) => panelOf(t) === panel));
      if (!tab) return;
      select(tab, { remember: false });
      if (element && !byName) element.scrollIntoView();
    };
    // Links elsewhere on the page that open a tab (?tab=NAME) switch to it in place.
    document.querySelectorAll("[data-tab-link]").forEach((link) => {
      const tab = tabs.find((t) => t.dataset.tab === link.dataset.tabLink);
      if (!tab) return;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        select(tab, { focus: true });
      });
    });

    openFragment();
    window.addEventListener("hashchange", openFragment);
  }
})();
