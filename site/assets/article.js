// One article: GET /news/{slug}; the body's paragraphs (separated by blank lines) become
// <p> elements filled with textContent; Previous (older) and Next (newer) as on the site.
(function () {
  "use strict";
  const { t, href, el, getJSON, formatDate, params, loadSidebar } = window.Vigor;

  const slug = params.get("slug") || "";
  const title = document.getElementById("article-title");
  const meta = document.getElementById("article-meta");
  const status = document.getElementById("article-status");
  const body = document.getElementById("article-body");
  const nav = document.getElementById("article-nav");

  function paragraphs(text) {
    return text
      .split(/\r?\n\s*\r?\n/)
      .map((paragraph) => paragraph.trim())
      .filter(Boolean)
      .map((paragraph) => el("p", {}, paragraph));
  }

  function neighbour(id, article) {
    const target = document.querySelector(`#${id} .target`);
    target.replaceChildren(
      article
        ? el("a", { href: href("article.html", { slug: article.slug }), rel: id === "next" ? "next" : "prev" }, article.title)
        : t("article.none"),
    );
  }

  async function show() {
    let article;
    try {
      if (!/^[a-z0-9][a-z0-9-]*$/.test(slug)) throw new window.Vigor.ApiError(404, null);
      article = await getJSON(`/news/${encodeURIComponent(slug)}`);
    } catch (error) {
      title.textContent = t("article.notFound");
      document.title = `${t("article.notFound")} — ${document.title}`;
      if (error.status !== 404) {
        status.classList.add("error");
        status.textContent = t("news.error");
      }
      return;
    }
    title.textContent = article.title;
    document.title = `${article.title} — ${document.title}`;
    document.getElementById("crumb-category").replaceChildren(
      "> ",
      el("a", { href: href("index.html", { category: article.category.slug }) }, article.category.name),
    );
    meta.replaceChildren(
      el("time", { datetime: article.published_at }, formatDate(article.published_at)),
      article.source ? ` · ${t("news.source", { source: article.source })}` : "",
    );
    body.replaceChildren(...paragraphs(article.body || ""));
    neighbour("previous", article.previous);
    neighbour("next", article.next);
    nav.hidden = false;
  }

  show();
  loadSidebar(null);
})();
