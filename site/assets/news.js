// The news list: GET /news (newest first) with ?category= and paging by next_cursor.
(function () {
  "use strict";
  const { t, href, el, getJSON, formatDate, params, loadSidebar } = window.Vigor;

  const list = document.getElementById("news-list");
  const status = document.getElementById("news-status");
  const heading = document.getElementById("news-heading");
  const crumb = document.getElementById("crumb-category");
  const older = document.getElementById("older-link");
  const newest = document.getElementById("newest-link");
  const category = params.get("category") || "";
  const cursor = params.get("cursor") || "";
  const pageSize = list.dataset.pageSize || "10";

  function item(article) {
    const link = href("article.html", { slug: article.slug });
    const meta = el(
      "p",
      { class: "meta" },
      el("time", { datetime: article.published_at }, formatDate(article.published_at)),
      " · ",
      el("a", { href: href("index.html", { category: article.category.slug }) }, article.category.name),
      article.source ? ` · ${t("news.source", { source: article.source })}` : null,
    );
    return el(
      "li",
      { class: "news-item" },
      el(
        "article",
        {},
        el("h2", {}, el("a", { href: link }, article.title)),
        meta,
        article.summary ? el("p", { class: "summary" }, article.summary) : null,
      ),
    );
  }

  async function show() {
    status.textContent = t("news.loading");
    const query = new URLSearchParams({ limit: pageSize });
    if (category) query.set("category", category);
    if (cursor) query.set("cursor", cursor);
    let page;
    try {
      page = await getJSON(`/news?${query}`);
    } catch (error) {
      status.classList.add("error");
      const unknown = error.status === 400 && error.body?.error?.fields?.category;
      status.textContent = t(unknown ? "news.unknownCategory" : "news.error");
      return;
    }
    list.replaceChildren(...page.items.map(item));
    status.textContent = page.items.length ? "" : t("news.empty");
    if (page.next_cursor) {
      const next = { cursor: page.next_cursor };
      if (category) next.category = category;
      older.href = href("index.html", next);
      older.hidden = false;
    }
    if (cursor) {
      newest.href = href("index.html", category ? { category } : {});
      newest.hidden = false;
    }
  }

  async function showCategory() {
    const categories = await loadSidebar(category);
    const current = categories.find((c) => c.slug === category);
    if (current) {
      heading.textContent = current.name;
      crumb.textContent = `> ${current.name}`;
      document.title = `${current.name} — ${document.title}`;
    }
  }

  show();
  showCategory();
})();
