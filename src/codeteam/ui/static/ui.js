// Live pages: the server says on an event stream when the records behind this page changed;
// the page then fetches itself again and swaps its content, keeping what the reader opened.
(function () {
  "use strict";
  const source = document.body.dataset.live;
  const state = document.getElementById("live-state");
  if (!source || !window.EventSource) {
    return;
  }
  let busy = false;
  let again = false;

  function openIds(root) {
    const open = new Set();
    const closed = new Set();
    root.querySelectorAll("details[id]").forEach((d) => (d.open ? open : closed).add(d.id));
    return { open, closed };
  }

  async function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const response = await fetch(window.location.href);
      if (response.ok) {
        const html = await response.text();
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("content");
        const content = document.getElementById("content");
        if (fresh && content) {
          const kept = openIds(content);
          fresh.querySelectorAll("details[id]").forEach((d) => {
            if (kept.open.has(d.id)) d.open = true;
            if (kept.closed.has(d.id)) d.open = false;
          });
          content.replaceChildren(...fresh.childNodes);
          document.dispatchEvent(new CustomEvent("content-replaced"));
        }
      }
    } catch (err) {
      // a failed refresh is retried on the next change
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  const events = new EventSource(source);
  events.addEventListener("change", refresh);
  events.addEventListener("open", () => state && state.classList.add("on"));
  events.addEventListener("error", () => state && state.classList.remove("on"));
  window.addEventListener("pagehide", () => events.close());
})();
