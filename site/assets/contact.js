// The contact page: the contact block from GET /contact, and the inquiry form sent as JSON.
// Without this script the form still works as a plain HTML form post (see contact.html).
(function () {
  "use strict";
  const { t, getJSON, renderContact, lang, config } = window.Vigor;

  const form = document.getElementById("inquiry-form");
  const button = form.querySelector('button[type="submit"]');
  const errorBox = document.getElementById("form-error");
  const success = document.getElementById("form-success");
  const reference = document.getElementById("reference");
  let salesEmail = form.dataset.fallbackEmail || "";
  let idempotencyKey = null; // one per form fill: a double click or a retry reuses it
  let sending = false;

  // The API validates and its messages are shown next to the fields.
  form.noValidate = true;

  // The live contact block: the built page has it already; the API's may be newer.
  // data-live says when the refresh is over ("fresh" or "failed").
  const contactBlock = document.getElementById("contact-block");
  getJSON("/contact")
    .then((contact) => {
      renderContact(contactBlock, contact);
      if (contact.email) salesEmail = contact.email;
      contactBlock.dataset.live = "fresh";
    })
    .catch(() => {
      document.getElementById("contact-status").textContent = t("contact.error");
      contactBlock.dataset.live = "failed";
    });

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function setSending(on) {
    sending = on;
    button.disabled = on;
    button.textContent = t(on ? "form.sending" : "form.submit");
    form.setAttribute("aria-busy", String(on));
  }

  function clearMessages() {
    errorBox.textContent = "";
    success.hidden = true;
    for (const input of form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const slot of form.querySelectorAll(".field-error")) {
      slot.textContent = "";
      slot.hidden = true;
    }
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.focus();
  }

  // "is required" -> "Name is required."; "must be ..." -> "Quantity must be ...";
  // a whole sentence (e.g. from the email check) -> "Email: The email address is ...".
  function fieldMessage(name, message) {
    if (lang === "zh") return String(message); // the API's Chinese sentences name the field
    const label = t(`form.${name}`);
    const text = String(message).replace(/\.$/, "");
    if (text === "is required") return t("form.required.error", { label });
    if (/^[a-z]/.test(text)) return t("form.field.error", { label, message: text });
    return t("form.field.sentence", { label, message: String(message) });
  }

  function showFieldErrors(fields) {
    const elsewhere = [];
    for (const [name, message] of Object.entries(fields)) {
      const input = form.elements.namedItem(name);
      const slot = document.getElementById(`f-${name}-error`);
      if (input && slot && input.type !== "hidden") {
        slot.textContent = fieldMessage(name, message);
        slot.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", slot.id);
      } else {
        elsewhere.push(fieldMessage(name, message));
      }
    }
    errorBox.textContent = [t("form.invalid"), ...elsewhere].join(" ");
    const first = form.querySelector('[aria-invalid="true"]');
    (first || errorBox).focus();
  }

  function retryMinutes(retryAfter) {
    const seconds = /^\d+$/.test(retryAfter || "")
      ? Number(retryAfter)
      : (Date.parse(retryAfter || "") - Date.now()) / 1000;
    return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds / 60) : 60;
  }

  function showSuccess(id) {
    form.reset();
    idempotencyKey = null;
    reference.textContent = id;
    success.hidden = false;
    success.focus();
  }

  // A changed form is a new inquiry: it gets a new key on the next send.
  form.addEventListener("input", () => {
    idempotencyKey = null;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    clearMessages();
    const fields = Object.fromEntries(new FormData(form)); // includes a Turnstile token if any
    delete fields.redirect; // only plain form posts are redirected
    fields.page = location.origin + location.pathname;
    fields.locale = lang;
    idempotencyKey = idempotencyKey || newKey();
    setSending(true);
    let response;
    let body = null;
    try {
      response = await fetch(`${config.api}/inquiries`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Idempotency-Key": idempotencyKey,
        },
        body: JSON.stringify(fields),
      });
      body = await response.json().catch(() => null);
    } catch {
      showError(t("form.offline"));
      return;
    } finally {
      setSending(false);
    }
    if (response.status === 201 && body && body.id) {
      showSuccess(body.id);
    } else if (response.status === 422 && body?.error?.fields) {
      showFieldErrors(body.error.fields);
    } else if (response.status === 429) {
      showError(t("form.rateLimited", { minutes: retryMinutes(response.headers.get("Retry-After")) }));
    } else if (response.status === 503) {
      showError(t("form.unavailable", { email: salesEmail }));
    } else {
      showError(t("form.failed", { message: body?.error?.message || `HTTP ${response.status}` }));
    }
  });
})();
