// Keeps a petition's count and progress bar current while the page is open, by polling the
// small count endpoint named in data-count-url. No reload, no cookies, nothing from other sites.
//
// The page and the ordinary polls may be a few seconds old (caches here, in the browser, in a
// web process). One rule keeps a person from seeing the count go back: a count lower than this
// tab has already shown for the petition (kept in sessionStorage, gone with the tab) is checked
// with the server past every cache before it is shown.
const POLL_SECONDS = 5;
const SEEN = "safe-passage:count:";

function seen(box) {
  try {
    return Number(sessionStorage.getItem(SEEN + box.dataset.countUrl)) || 0;
  } catch {
    return 0; // storage turned off: each page on its own
  }
}

function remember(box, count) {
  try {
    sessionStorage.setItem(SEEN + box.dataset.countUrl, String(count));
  } catch {
    // storage turned off or full: nothing to remember
  }
}

// Numbers as the page's language writes them; the word after the count is the page's own, in
// its language (data-one, data-other on .signature-word).
const LANGUAGE = document.documentElement.lang || "en";

function show(box, data) {
  const count = box.querySelector(".signature-count");
  count.textContent = data.signature_count.toLocaleString(LANGUAGE);
  const word = box.querySelector(".signature-word");
  word.textContent = data.signature_count === 1 ? word.dataset.one : word.dataset.other;
  box.querySelector(".signature-goal").textContent = data.goal.toLocaleString(LANGUAGE);
  const progress = box.querySelector(".progress");
  progress.setAttribute("aria-valuenow", String(data.progress_percent));
  const bar = box.querySelector(".progress-bar");
  bar.style.width = `${data.progress_percent}%`;
  bar.style.minWidth = data.signature_count ? "4px" : "0";
  remember(box, data.signature_count);
}

async function refresh(box, cache = "default") {
  if (document.hidden) return; // a background tab waits until it is looked at again
  try {
    const response = await fetch(box.dataset.countUrl, { credentials: "omit", cache });
    if (!response.ok) return;
    const data = await response.json();
    if (cache !== "reload" && data.signature_count < seen(box)) {
      await refresh(box, "reload"); // an older copy than this tab has shown
    } else {
      show(box, data);
    }
  } catch {
    // offline or the server is busy: keep the last count and try again later
  }
}

for (const box of document.querySelectorAll("[data-count-url]")) {
  const shown = Number(box.dataset.count);
  if (shown < seen(box)) refresh(box, "reload");
  else remember(box, shown);
  setInterval(() => refresh(box), POLL_SECONDS * 1000);
  document.addEventListener("visibilitychange", () => refresh(box));
  window.addEventListener("pageshow", (event) => event.persisted && refresh(box));
}
