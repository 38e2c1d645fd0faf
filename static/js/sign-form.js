// The petition page is the same for every visitor (so that it can be cached while a petition
// goes viral), so its sign form comes without a CSRF token. This fetches the visitor's own from
// data-csrf-url when they start filling in the form, and adds it before the form is sent.
// Without this script the server sends the form back filled in, with a token, to send again.

const form = document.querySelector("form[data-csrf-url]");

async function fetchToken() {
  try {
    const response = await fetch(form.dataset.csrfUrl, {
      credentials: "same-origin",
      cache: "no-store",
    });
    return response.ok ? (await response.json()).token : null;
  } catch {
    return null; // the server sends the form back with a token instead
  }
}

function addToken(value) {
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = "csrfmiddlewaretoken";
  input.value = value ?? "";
  form.append(input);
}

if (form) {
  let request = null;
  let token; // undefined until the request has answered
  const ask = () =>
    (request ??= fetchToken().then((value) => {
      token = value;
      return value;
    }));
  form.addEventListener("focusin", ask, { once: true });
  form.addEventListener("submit", async (event) => {
    if (form.elements.csrfmiddlewaretoken) return;
    if (token !== undefined) {
      addToken(token); // fetched while the form was filled in: send it with this submit
      return;
    }
    event.preventDefault();
    addToken(await ask());
    // A form can't be submitted again while its submit event is still being handled.
    setTimeout(() => form.requestSubmit(event.submitter), 0);
  });
}
