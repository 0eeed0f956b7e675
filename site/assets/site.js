// Shared by every page: the page's language, the messages the scripts show, API calls, small
// DOM helpers. Every page is complete without it (manage.py site build renders them, en under
// /, zh under /zh/); the scripts only enhance. API data is only ever put into the page with
// textContent or attributes, never innerHTML.
(function () {
  "use strict";

  const config = window.VIGOR || {};
  const params = new URLSearchParams(location.search);
  const lang = document.documentElement.lang.toLowerCase().startsWith("zh") ? "zh" : "en";

  // The messages the scripts show (the static labels are rendered into the pages).
  const STRINGS = {
    en: {
      "contact.title": "Contact us",
      "contact.contact_person": "Contact",
      "contact.phone": "Phone",
      "contact.tel": "Tel",
      "contact.email": "Email",
      "contact.address": "Address",
      "contact.wechat": "WeChat",
      "contact.error": "The contact details could not be loaded.",
      "contact.noscript": "Write to us with the form below.",
      "form.title": "Send us an inquiry",
      "form.intro": "Tell us the part name or OE number and the quantity you need. Our sales team answers by email.",
      "form.required": "(required)",
      "form.optional": "(optional)",
      "form.name": "Name",
      "form.email": "Email",
      "form.company": "Company",
      "form.country": "Country",
      "form.phone": "Phone",
      "form.product": "Part name or OE number",
      "form.quantity": "Quantity",
      "form.message": "Message",
      "form.honeypot": "Leave this field empty",
      "form.cf-turnstile-response": "Anti-robot check",
      "form.page": "Page address",
      "form.locale": "Language",
      "form.submit": "Send inquiry",
      "form.sending": "Sending…",
      "form.successTitle": "Thank you! We received your inquiry.",
      "form.reference": "Your reference:",
      "form.invalid": "Some fields need attention. Please check the messages below.",
      "form.required.error": "{label} is required.",
      "form.field.error": "{label} {message}.",
      "form.field.sentence": "{label}: {message}",
      "form.offline": "You seem to be offline, so your inquiry was not sent. Please check your connection and press “Send inquiry” again.",
      "form.rateLimited": "Too many inquiries were sent from your network in a short time. Please try again in {minutes} minutes.",
      "form.unavailable": "We could not take your inquiry right now. Please try again in a few minutes, or email us at {email}.",
      "form.failed": "Your inquiry could not be sent: {message}",
    },
    zh: {
      "contact.title": "联系我们",
      "contact.contact_person": "联系人",
      "contact.phone": "手机",
      "contact.tel": "电话",
      "contact.email": "邮箱",
      "contact.address": "地址",
      "contact.wechat": "微信",
      "contact.error": "联系方式加载失败。",
      "contact.noscript": "请使用下面的表单联系我们。",
      "form.title": "在线询价",
      "form.intro": "请填写配件名称或 OE 号以及所需数量，我们的销售团队会通过邮件回复您。",
      "form.required": "（必填）",
      "form.optional": "（选填）",
      "form.name": "姓名",
      "form.email": "邮箱",
      "form.company": "公司",
      "form.country": "国家/地区",
      "form.phone": "电话",
      "form.product": "配件名称或 OE 号",
      "form.quantity": "数量",
      "form.message": "留言",
      "form.honeypot": "请勿填写此项",
      "form.cf-turnstile-response": "人机验证",
      "form.page": "页面地址",
      "form.locale": "语言",
      "form.submit": "发送询价",
      "form.sending": "正在发送…",
      "form.successTitle": "谢谢！我们已收到您的询价。",
      "form.reference": "您的询价编号：",
      "form.invalid": "部分内容需要修改，请查看下方提示。",
      "form.required.error": "请填写{label}。",
      "form.field.error": "{label}：{message}",
      "form.field.sentence": "{label}：{message}",
      "form.offline": "网络连接似乎已断开，询价未发送。请检查网络后再次点击“发送询价”。",
      "form.rateLimited": "短时间内从您的网络发送的询价过多，请在 {minutes} 分钟后重试。",
      "form.unavailable": "我们暂时无法接收您的询价。请几分钟后重试，或发邮件至 {email}。",
      "form.failed": "询价未能发送：{message}",
    },
  };

  function t(key, vars) {
    const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
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

  window.Vigor = {
    config,
    lang,
    params,
    t,
    el,
    getJSON,
    ApiError,
    renderContact,
  };
})();
