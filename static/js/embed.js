// Partner sites paste:
//   <script src="https://SITE/static/js/embed.js" data-petition="SLUG" async></script>
// and a card with the petition's title, live count, progress and a link to sign appears where
// the script stands. It loads in an iframe from our site, so it sets no cookie on the partner's.
const script = document.currentScript;
const slug = script && script.dataset.petition;
if (slug && /^[-a-zA-Z0-9_]+$/.test(slug)) {
  const origin = new URL(script.src).origin;
  const frame = document.createElement("iframe");
  frame.src = `${origin}/petitions/${slug}/embed/`;
  frame.title = "Petition";
  frame.loading = "lazy";
  frame.style.cssText = "border:0;width:100%;max-width:30rem;height:15rem;";
  script.after(frame);
}
