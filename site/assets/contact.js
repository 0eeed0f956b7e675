// The contact page: the contact block from GET /contact, and the inquiry form sent as JSON,
// with its line items (a table of parts) and the files uploaded straight to storage.
// Without this script the form still works as a plain HTML form post (see contact.html).
(function () {
  "use strict";
  const { t, el, getJSON, renderContact, lang, config } = window.Vigor;

  const form = document.getElementById("inquiry-form");
  const button = form.querySelector('button[type="submit"]');
  const errorBox = document.getElementById("form-error");
  const success = document.getElementById("form-success");
  const reference = document.getElementById("reference");
  const status = document.getElementById("form-status");
  let salesEmail = form.dataset.fallbackEmail || "";
  let idempotencyKey = null; // one per form fill: a double click or a retry reuses it
  let sending = false;

  // The API validates and its messages are shown next to the fields.
  form.noValidate = true;

  // The one product/quantity row of the plain form gives way to the table and the uploader
  // (CSS already shows the right ones; disabled fields are not sent).
  for (const part of form.querySelectorAll(".no-js")) {
    part.hidden = true;
    for (const input of part.querySelectorAll("input, select, textarea")) input.disabled = true;
  }

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

  function announce(text) {
    status.textContent = text;
  }

  // ---- line items ------------------------------------------------------------------------

  const itemsBox = document.getElementById("items");
  const itemsBody = itemsBox.querySelector("tbody");
  const addButton = document.getElementById("add-item");
  const maxItems = Number(itemsBox.dataset.maxItems) || 50;
  const blankRow = itemsBody.querySelector("tr.item").cloneNode(true); // as the page built it

  function rows() {
    return Array.from(itemsBody.querySelectorAll("tr.item"));
  }

  // Row i: its number, the ids, names and labels of its fields, its remove button's name.
  function numberRow(row, i) {
    const n = String(i + 1);
    row.querySelector("th").textContent = n;
    for (const cell of row.querySelectorAll("td[data-col]")) {
      const col = cell.dataset.col;
      const input = cell.querySelector("input, select");
      const id = `item-${i}-${col}`;
      input.id = id;
      input.name = `items[${i}].${col}`;
      cell.querySelector("label").htmlFor = id;
      cell.querySelector(".row-suffix").textContent = t("items.rowSuffix", { n });
      cell.querySelector(".field-error").id = `${id}-error`;
      if (input.getAttribute("aria-describedby")) input.setAttribute("aria-describedby", `${id}-error`);
    }
    row.querySelector(".remove-suffix").textContent = t("items.removeSuffix", { n });
  }

  function renumber() {
    const all = rows();
    all.forEach(numberRow);
    for (const remove of itemsBody.querySelectorAll(".remove-item")) remove.hidden = all.length < 2;
  }

  function addRow() {
    const count = rows().length;
    if (count >= maxItems) {
      announce(t("items.max", { max: maxItems }));
      showItemsError(t("items.max", { max: maxItems }));
      return;
    }
    const row = blankRow.cloneNode(true);
    itemsBody.append(row);
    renumber();
    idempotencyKey = null;
    row.querySelector("input").focus();
    announce(t("items.added", { n: count + 1 }));
  }

  function removeRow(row) {
    const all = rows();
    const index = all.indexOf(row);
    if (all.length < 2 || index < 0) return;
    row.remove();
    renumber();
    idempotencyKey = null;
    // Focus the row that took its place, else the one before: never lost to the page.
    const next = rows()[Math.min(index, rows().length - 1)];
    next.querySelector("input").focus();
    announce(t("items.removed", { n: index + 1 }));
  }

  function resetRows() {
    itemsBody.replaceChildren(blankRow.cloneNode(true));
    renumber();
  }

  addButton.addEventListener("click", addRow);
  itemsBody.addEventListener("click", (event) => {
    const remove = event.target.closest(".remove-item");
    if (remove) removeRow(remove.closest("tr"));
  });

  function showItemsError(text) {
    const slot = document.getElementById("items-error");
    slot.textContent = text;
    slot.hidden = !text;
  }

  // The rows someone filled in, as the API takes them, and the row each came from (so that
  // an error for items[k] is shown in the right row).
  function collectItems() {
    const items = [];
    const from = [];
    for (const row of rows()) {
      const values = {};
      for (const cell of row.querySelectorAll("td[data-col]")) {
        values[cell.dataset.col] = cell.querySelector("input, select").value.trim();
      }
      if (!values.part_number && !values.description && !values.quantity && !values.target_price) {
        continue; // an empty row (unit and currency always have a value)
      }
      const item = {};
      for (const name of ["part_number", "description", "unit"]) {
        if (values[name]) item[name] = values[name];
      }
      if (values.quantity) {
        item.quantity = /^\d{1,9}$/.test(values.quantity) ? Number(values.quantity) : values.quantity;
      }
      if (values.target_price) {
        item.target_price = values.target_price;
        item.currency = values.currency;
      }
      items.push(item);
      from.push(row);
    }
    return { items, from };
  }

  // ---- attachments: chosen files are uploaded at once, straight to storage ----------------

  const uploader = document.getElementById("uploader");
  const picker = document.getElementById("f-files");
  const fileList = document.getElementById("file-list");
  const filesError = document.getElementById("f-files-error");
  const limits = JSON.parse(uploader.dataset.config);
  const MB = 1024 * 1024;
  const uploads = []; // {file, name, type, id, state, xhr, done (a promise), item}

  function extension(name) {
    const dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  }

  function sizeText(bytes) {
    if (bytes < MB) return t("files.size.kb", { n: Math.max(1, Math.round(bytes / 1024)) });
    return t("files.size.mb", { n: (bytes / MB).toFixed(1) });
  }

  function showFilesError(messages) {
    filesError.textContent = messages.join(" ");
    filesError.hidden = messages.length === 0;
    const describedBy = messages.length ? "f-files-hint f-files-error" : "f-files-hint";
    picker.setAttribute("aria-describedby", describedBy);
  }

  // The browser's checks, so a visitor hears at once what cannot be sent; the API checks
  // every file again (its content, not only its name) and has the last word.
  function check(file, kept, bytes) {
    const name = file.name;
    const type = limits.types[extension(name)];
    if (!type) return { error: t("files.badType", { name }) };
    if (file.size === 0) return { error: t("files.empty", { name }) };
    if (file.size > limits.limits.each * MB) {
      return { error: t("files.tooBig", { name, max: limits.limits.each }) };
    }
    if (kept >= limits.limits.count) return { error: t("files.tooMany", { name, max: limits.limits.count }) };
    if (bytes + file.size > limits.limits.total * MB) {
      return { error: t("files.tooMuch", { name, max: limits.limits.total }) };
    }
    return { type };
  }

  picker.addEventListener("change", () => {
    const problems = [];
    let kept = uploads.length;
    let bytes = uploads.reduce((sum, upload) => sum + upload.file.size, 0);
    for (const file of Array.from(picker.files)) {
      const verdict = check(file, kept, bytes);
      if (verdict.error) {
        problems.push(verdict.error);
        continue;
      }
      kept += 1;
      bytes += file.size;
      const upload = { file, name: file.name, type: verdict.type, id: null, state: "new" };
      upload.item = fileItem(upload);
      uploads.push(upload);
      fileList.append(upload.item);
      start(upload);
    }
    picker.value = ""; // the same file may be chosen again after a removal
    showFilesError(problems);
    idempotencyKey = null;
  });

  function fileItem(upload) {
    const suffix = () => el("span", { class: "vh" }, t("files.nameSuffix", { name: upload.name }));
    const retry = el("button", { type: "button", class: "secondary file-retry", hidden: "" }, t("files.retry"), suffix());
    const remove = el("button", { type: "button", class: "secondary file-remove" }, t("files.remove"), suffix());
    retry.addEventListener("click", () => {
      start(upload);
      upload.item.querySelector(".file-remove").focus(); // the retry button hides
    });
    remove.addEventListener("click", () => removeUpload(upload));
    return el(
      "li",
      { class: "file", "data-state": "new" },
      el("span", { class: "file-name" }, upload.name),
      el("span", { class: "file-size" }, sizeText(upload.file.size)),
      el("progress", { max: "100", value: "0", "aria-label": t("files.progress", { name: upload.name }) }),
      el("span", { class: "file-status" }),
      el("span", { class: "actions-inline" }, retry, remove),
    );
  }

  function setState(upload, state, text, percent) {
    upload.state = state;
    const item = upload.item;
    item.dataset.state = state;
    item.querySelector(".file-status").textContent = text;
    if (percent !== undefined) item.querySelector("progress").value = percent;
    item.querySelector(".file-retry").hidden = state !== "failed";
  }

  function start(upload) {
    setState(upload, "uploading", t("files.uploading", { percent: 0 }), 0);
    upload.done = upload_(upload).then(
      (id) => {
        if (upload.state === "removed") return;
        upload.id = id;
        setState(upload, "done", t("files.done"), 100);
        announce(t("files.uploaded", { name: upload.name }));
      },
      (error) => {
        if (upload.state === "removed") return;
        setState(upload, "failed", t("files.failed", { message: error.message }));
        announce(t("files.failed", { message: error.message }));
      },
    );
  }

  // POST /uploads says where to send the file (a presigned POST), then the browser sends it
  // there itself, with XMLHttpRequest for its progress events.
  async function upload_(upload) {
    let response;
    let body = null;
    try {
      response = await fetch(`${config.api}/uploads`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(uploadRequest(upload)),
      });
      body = await response.json().catch(() => null);
    } catch {
      throw new Error(t("files.offline"));
    }
    if (response.status !== 201 || !body?.upload?.url) {
      const fields = body?.error?.fields;
      const message = fields ? Object.values(fields).join(" ") : body?.error?.message;
      throw new Error(message || t("files.refused", { status: response.status }));
    }
    if (upload.state === "removed") throw new Error(t("files.offline")); // removed meanwhile
    await send(upload, body.upload);
    return body.id;
  }

  function uploadRequest(upload) {
    const request = { filename: upload.name, content_type: upload.type, size: upload.file.size };
    const honeypot = form.querySelector(".hp input");
    if (honeypot && honeypot.value) request[honeypot.name] = honeypot.value; // bots are told apart
    return request;
  }

  function send(upload, target) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [name, value] of Object.entries(target.fields || {})) data.append(name, value);
      data.append("file", upload.file); // the file comes last in a presigned POST
      const xhr = new XMLHttpRequest();
      upload.xhr = xhr;
      xhr.open("POST", target.url);
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable || upload.state !== "uploading") return;
        const percent = Math.min(99, Math.floor((event.loaded / event.total) * 100));
        setState(upload, "uploading", t("files.uploading", { percent }), percent);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new Error(t("files.refused", { status: xhr.status })));
      });
      xhr.addEventListener("error", () => reject(new Error(t("files.offline"))));
      xhr.addEventListener("abort", () => reject(new Error(t("files.offline"))));
      xhr.send(data);
    });
  }

  function removeUpload(upload) {
    const index = uploads.indexOf(upload);
    if (index < 0) return;
    upload.state = "removed";
    if (upload.xhr) upload.xhr.abort();
    uploads.splice(index, 1);
    upload.item.remove();
    idempotencyKey = null;
    // Focus the next file's remove button, else the previous one's, else the picker.
    const neighbour = uploads[Math.min(index, uploads.length - 1)];
    (neighbour ? neighbour.item.querySelector(".file-remove") : picker).focus();
    announce(t("files.removed", { name: upload.name }));
  }

  function resetUploads() {
    for (const upload of uploads.splice(0)) upload.item.remove();
    showFilesError([]);
  }

  // ---- sending ---------------------------------------------------------------------------

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function setSending(on, text) {
    sending = on;
    button.disabled = on;
    button.textContent = text || t(on ? "form.sending" : "form.submit");
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
    picker.setAttribute("aria-describedby", "f-files-hint");
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.focus();
  }

  // "is required" -> "Name is required."; "must be ..." -> "Quantity must be ...";
  // a whole sentence (e.g. from the email check) -> "Email: The email address is ...".
  function fieldMessage(label, message) {
    if (lang === "zh") return String(message); // the API's Chinese sentences name the field
    const text = String(message).replace(/\.$/, "");
    if (text === "is required") return t("form.required.error", { label });
    if (/^[a-z]/.test(text)) return t("form.field.error", { label, message: text });
    return t("form.field.sentence", { label, message: String(message) });
  }

  function markField(input, slot, text) {
    slot.textContent = text;
    slot.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", slot.id);
  }

  // Field errors of a 422 next to their fields: `name`, a row's `items[3].quantity`, a file's
  // `attachments[1]`; what has no place on the page is listed at the top.
  function showFieldErrors(fields, sent) {
    const elsewhere = [];
    const fileProblems = [];
    for (const [name, message] of Object.entries(fields)) {
      const row = /^items\[(\d+)\]\.(\w+)$/.exec(name);
      const file = /^attachments(?:\[(\d+)\])?$/.exec(name);
      if (row) {
        const tr = sent.rows[Number(row[1])];
        const input = tr && tr.querySelector(`td[data-col="${row[2]}"] input, td[data-col="${row[2]}"] select`);
        const text = fieldMessage(t(`items.${row[2]}`), message);
        if (input) markField(input, document.getElementById(`${input.id}-error`), text);
        else elsewhere.push(t("items.error", { n: Number(row[1]) + 1, message: text }));
      } else if (/^items(\[\d+\])?$/.test(name)) {
        showItemsError(String(message));
        elsewhere.push(String(message));
      } else if (file) {
        const upload = file[1] === undefined ? null : sent.uploads[Number(file[1])];
        if (upload && upload.item.isConnected) {
          setState(upload, "failed", t("files.failed", { message }));
        }
        fileProblems.push(upload ? `${upload.name}: ${message}` : String(message));
      } else {
        const input = form.elements.namedItem(name);
        const slot = document.getElementById(`f-${name}-error`);
        const text = fieldMessage(t(`form.${name}`), message);
        if (input && slot && input.type !== "hidden" && !input.disabled) markField(input, slot, text);
        else elsewhere.push(text);
      }
    }
    if (fileProblems.length) {
      showFilesError(fileProblems);
      picker.setAttribute("aria-invalid", "true");
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
    window.Vigor.fillSource(form); // reset() emptied the hidden source fields
    resetRows();
    resetUploads();
    idempotencyKey = null;
    reference.textContent = id;
    success.hidden = false;
    success.focus();
  }

  // The files still on their way are waited for; one that failed stops the send.
  async function uploadsReady() {
    if (uploads.some((upload) => upload.state === "uploading")) {
      setSending(true, t("files.waiting"));
      await Promise.all(uploads.map((upload) => upload.done));
    }
    const failed = uploads.find((upload) => upload.state !== "done");
    if (!failed) return true;
    setSending(false);
    showError(t("files.notReady", { name: failed.name }));
    return false;
  }

  // A changed form is a new inquiry: it gets a new key on the next send.
  form.addEventListener("input", () => {
    idempotencyKey = null;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    clearMessages();
    sending = true;
    if (!(await uploadsReady())) return;
    const fields = {};
    for (const [name, value] of new FormData(form)) {
      // the table's cells are sent as `items`; empty hidden fields (source) are left out
      if (!name.startsWith("items[") && !(value === "" && form.elements.namedItem(name)?.type === "hidden")) {
        fields[name] = value; // includes a Turnstile token if any
      }
    }
    delete fields.redirect; // only plain form posts are redirected
    fields.page = location.origin + location.pathname;
    fields.locale = lang;
    const { items, from } = collectItems();
    if (items.length) fields.items = items;
    const sentUploads = uploads.slice();
    if (sentUploads.length) fields.attachments = sentUploads.map((upload) => upload.id);
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
      showFieldErrors(body.error.fields, { rows: from, uploads: sentUploads });
    } else if (response.status === 429) {
      showError(t("form.rateLimited", { minutes: retryMinutes(response.headers.get("Retry-After")) }));
    } else if (response.status === 503) {
      showError(t("form.unavailable", { email: salesEmail }));
    } else {
      showError(t("form.failed", { message: body?.error?.message || `HTTP ${response.status}` }));
    }
  });

  renumber();
})();
