// Shared by every page: the page's language, the messages the scripts show, API calls, small
// DOM helpers. Every page is complete without it (manage.py site build renders them, en under
// /, zh under /zh/); the scripts only enhance. API data is only ever put into the page with
// textContent or attributes, never innerHTML.
(function () {
  "use strict";

  const config = window.VIGOR || {};
  const params = new URLSearchParams(location.search);
  const lang = document.documentElement.lang.toLowerCase().startsWith("zh") ? "zh" : "en";

  // The messages the scripts show, in the page's language: manage.py site build puts them into
  // the pages that have scripts (from site/strings.json, which also holds the static labels).
  const stringsElement = document.getElementById("vigor-strings");
  const STRINGS = stringsElement ? JSON.parse(stringsElement.textContent) : {};

  function t(key, vars) {
    const text = STRINGS[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      vars && name in vars ? String(vars[name]) : whole,
    );
  }

  // el("a", {href: "..."}, "text", child, ...): attributes and text only, never HTML.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function getJSON(path) {
    const response = await fetch(config.api + path, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  // The contact block, as manage.py site build renders it (site/templates/contact_block.html.j2):
  // entries the site has no value for (null) are left out; the company's English texts are
  // marked lang="en" on the Chinese pages.
  function renderContact(container, contact) {
    const rows = [];
    const english = lang === "zh" ? "en" : null;
    const add = (key, value, link) => {
      if (value === null || value === undefined || value === "") return;
      const textLang = key === "contact_person" || key === "address" ? english : null;
      rows.push(
        el(
          "div",
          {},
          el("dt", {}, t(`contact.${key}`)),
          el("dd", { "data-field": key, lang: textLang }, link || value),
        ),
      );
    };
    add("contact_person", contact.contact_person);
    add("phone", contact.phone, contact.phone && el("a", { href: telLink(contact.phone) }, contact.phone));
    add("tel", contact.tel, contact.tel && el("a", { href: telLink(contact.tel) }, contact.tel));
    add("email", contact.email, contact.email && el("a", { href: `mailto:${contact.email}` }, contact.email));
    add("address", contact.address);
    add("wechat", contact.wechat);
    const company = contact.company ? el("p", { class: "company", lang: "en" }, contact.company) : null;
    container.replaceChildren(...[company, el("dl", {}, ...rows)].filter(Boolean));
  }

  function telLink(number) {
    // 0086-183... -> tel:+86183...
    const digits = number.replace(/[^\d+]/g, "").replace(/^00/, "+");
    return `tel:${digits}`;
  }

  // The thanks page on a static host: the reference from ?inquiry= (a lead id only).
  const reference = document.querySelector(".reference #reference");
  const inquiry = (params.get("inquiry") || "").trim().toUpperCase();
  if (reference && !reference.textContent && /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(inquiry)) {
    reference.textContent = inquiry;
  }

  // First-touch source: on the visitor's first page view (or the first after the record
  // expired) the campaign parameters, an external referrer and the landing page are kept in
  // localStorage for SOURCE_DAYS; forms send them in their hidden `data-source` inputs
  // (docs/site.md). Nothing is recorded when storage is unavailable (blocked, private mode).
  const SOURCE_KEY = "vigor.source";
  const SOURCE_DAYS = 90;
  const CAMPAIGN = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid"];
  const SOURCE_LIMITS = { referrer: 2000, landing_page: 2000 }; // others: 200 characters

  // One line, no control characters, within the API's length: the visitor cannot see or fix
  // these fields, so they must never be why an inquiry is refused.
  function sourceValue(name, value) {
    const text = String(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "").trim();
    return text.slice(0, SOURCE_LIMITS[name] || 200);
  }

  function externalReferrer() {
    try {
      const origin = document.referrer && new URL(document.referrer).origin;
      return origin && origin !== location.origin ? document.referrer : "";
    } catch {
      return "";
    }
  }

  function firstTouch() {
    try {
      const storage = window.localStorage; // may throw when storage is blocked
      const saved = JSON.parse(storage.getItem(SOURCE_KEY) || "null");
      if (saved && saved.fields && Date.now() - saved.at < SOURCE_DAYS * 86400000) {
        return saved.fields;
      }
      const found = {
        ...Object.fromEntries(CAMPAIGN.map((name) => [name, params.get(name) || ""])),
        referrer: externalReferrer(),
        landing_page: location.origin + location.pathname + location.search,
      };
      const fields = {};
      for (const [name, value] of Object.entries(found)) {
        const clean = sourceValue(name, value);
        if (clean) fields[name] = clean;
      }
      storage.setItem(SOURCE_KEY, JSON.stringify({ at: Date.now(), fields }));
      return fields;
    } catch {
      return {};
    }
  }

  const source = firstTouch();
  function fillSource(root) {
    for (const input of root.querySelectorAll("input[data-source]")) {
      input.value = source[input.dataset.source] || "";
    }
  }
  fillSource(document);

  window.Vigor = {
    config,
    lang,
    params,
    t,
    el,
    getJSON,
    ApiError,
    renderContact,
    fillSource,
  };
})();
