// Keeps a petition's count and progress bar current while the page is open, by polling the
// small count endpoint named in data-count-url. No reload, no cookies, nothing from other sites.
const POLL_SECONDS = 5;

function show(box, data) {
  const count = box.querySelector(".signature-count");
  count.textContent = data.signature_count.toLocaleString("en-GB");
  box.querySelector(".signature-word").textContent =
    data.signature_count === 1 ? "signature" : "signatures";
  box.querySelector(".signature-goal").textContent = data.goal.toLocaleString("en-GB");
  const progress = box.querySelector(".progress");
  progress.setAttribute("aria-valuenow", String(data.progress_percent));
  const bar = box.querySelector(".progress-bar");
  bar.style.width = `${data.progress_percent}%`;
  bar.style.minWidth = data.signature_count ? "4px" : "0";
}

async function refresh(box, cache = "default") {
  if (document.hidden) return; // a background tab waits until it is looked at again
  try {
    const response = await fetch(box.dataset.countUrl, { credentials: "omit", cache });
    if (response.ok) show(box, await response.json());
  } catch {
    // offline or the server is busy: keep the last count and try again later
  }
}

// A page the browser kept (it may be cached for a few seconds, or restored on Back) can show
// an older count: ask the server for the current one at once.
const navigation = performance.getEntriesByType("navigation")[0];
const keptCopy = navigation !== undefined && navigation.transferSize === 0;

for (const box of document.querySelectorAll("[data-count-url]")) {
  if (keptCopy) refresh(box, "no-cache");
  setInterval(() => refresh(box), POLL_SECONDS * 1000);
  document.addEventListener("visibilitychange", () => refresh(box));
  window.addEventListener("pageshow", (event) => event.persisted && refresh(box, "no-cache"));
}
