"""The audits of Lighthouse's SEO and Accessibility categories and its layout-shift metric,
run by the browser tests themselves in Debian's Chromium (Lighthouse is not installed).

* Accessibility: axe-core (the engine Lighthouse's accessibility category runs), vendored
  as `tests/e2e/vendor/axe.min.js` (axe-core 4.11.0, MPL-2.0, its licence beside it),
  with the WCAG 2.x A/AA rules and the best practices (landmarks, heading
  order, one h1): no violation of any impact.
* CLS: the sum of `layout-shift` entries without recent input, observed from before the
  first paint (an init script) until the page has loaded and its scripts' API calls have
  been rendered; Lighthouse's limit for "good" is 0.1.
* SEO: Lighthouse 12's audits — document title, meta description, HTTP status, crawlable
  anchors, descriptive link text, image alt, valid hreflang, valid canonical, crawlable
  (no `noindex`), `lang` — plus the viewport meta.
* The focus ring: every focusable element is focused in turn and its outline's contrast
  against the background around it is computed (WCAG 2.2 non-text contrast, 3:1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

# Installed before any page script: collects layout shifts from the first paint on.
CLS_OBSERVER = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__cls += entry.value;
  }
}).observe({ type: "layout-shift", buffered: true });
"""

# Lighthouse's list of link texts that describe nothing (link-text audit), en and zh.
GENERIC_LINK_TEXTS = {
    "click here", "click this", "go", "here", "this", "start", "right here", "more",
    "learn more", "read more", "continue", "link", "点击这里", "更多", "这里", "点击此处",
}  # fmt: skip

SEO = """
() => {
  const problems = [];
  const head = (selector) => Array.from(document.head.querySelectorAll(selector));
  if (!document.title.trim()) problems.push("no title");
  const description = head('meta[name="description"]');
  if (description.length !== 1 || !description[0].content.trim())
    problems.push("meta description missing or empty");
  if (!head('meta[name="viewport"]').length) problems.push("no viewport meta");
  const robots = head('meta[name="robots"]').map((m) => m.content.toLowerCase()).join(",");
  const canonical = head('link[rel="canonical"]');
  const alternates = head('link[rel="alternate"][hreflang]');
  const lang = document.documentElement.lang;
  let langValid = false;
  try { langValid = Intl.getCanonicalLocales(lang).length === 1; } catch (e) {}
  if (!langValid) problems.push(`bad html lang ${lang}`);
  for (const node of document.querySelectorAll("[lang]")) {
    try { Intl.getCanonicalLocales(node.lang); }
    catch (e) { problems.push(`bad lang ${node.lang}`); }
  }
  for (const link of alternates) {
    const code = link.hreflang;
    let ok = code === "x-default";
    try { ok = ok || Intl.getCanonicalLocales(code).length === 1; } catch (e) {}
    if (!ok) problems.push(`bad hreflang ${code}`);
    if (!/^https?:\\/\\//.test(link.getAttribute("href")))
      problems.push(`relative hreflang ${link.href}`);
  }
  const anchors = Array.from(document.querySelectorAll("a"));
  for (const a of anchors) {
    const href = a.getAttribute("href");
    if (href === null || href === "" || /^javascript:/i.test(href))
      problems.push(`uncrawlable anchor ${a.outerHTML}`);
    const text = (a.textContent || "").trim().toLowerCase();
    if (GENERIC.includes(text)) problems.push(`generic link text ${text}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`img without alt ${img.src}`);
  }
  const headings = Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6"));
  const levels = headings.map((h) => Number(h.tagName[1]));
  if (levels.filter((l) => l === 1).length !== 1) problems.push(`h1 count ${levels}`);
  if (levels[0] !== 1) problems.push(`first heading is not h1: ${levels}`);
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] > levels[i - 1] + 1) problems.push(`heading skips a level: ${levels}`);
  }
  const h1 = document.querySelector("h1");
  const h1Size = h1 ? parseFloat(getComputedStyle(h1).fontSize) : 0;
  for (const h of headings) {
    if (parseFloat(getComputedStyle(h).fontSize) > h1Size)
      problems.push(`${h.tagName} larger than h1`);
  }
  return {
    problems,
    robots,
    canonical: canonical.map((l) => l.getAttribute("href")),
    alternates: alternates.map((l) => [l.hreflang, l.getAttribute("href")]),
    lang,
  };
}
"""

FOCUS_CONTRAST = """
() => {
  const parse = (color) => {
    const m = color.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const ratio = (x, y) => {
    const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  // The colour behind the ring: the first opaque background from the parent up.
  const behind = (node) => {
    for (let n = node.parentElement; n; n = n.parentElement) {
      const color = parse(getComputedStyle(n).backgroundColor);
      if (color && color.a > 0) return color;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const focusable = Array.from(
    document.querySelectorAll("a[href], button, input:not([type=hidden]), textarea, select"),
  ).filter((n) => n.tabIndex >= 0 && n.getClientRects().length && !n.closest("[aria-hidden=true]"));
  const results = [];
  for (const node of focusable) {
    node.focus({ focusVisible: true });
    const style = getComputedStyle(node);
    const width = parseFloat(style.outlineWidth);
    const ring = parse(style.outlineColor);
    const shown = style.outlineStyle !== "none" && width >= 2 && ring;
    const contrast = shown ? ratio(ring, behind(node)) : 0;
    results.push({ element: node.outerHTML.slice(0, 80), width, contrast });
  }
  document.activeElement && document.activeElement.blur();
  return results;
}
"""


def watch_layout_shifts(page: Any) -> None:
    """Before the first goto: every layout shift from the first paint on is counted."""
    page.add_init_script(CLS_OBSERVER)


def layout_shift(page: Any) -> float:
    """CLS so far, once the page has loaded, the live contact block (contact.js) has been
    refreshed from the API, and two more frames were drawn (their shifts reported)."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        """() => {
            const block = document.getElementById("contact-block");
            return !block || !document.querySelector('script[src$="contact.js"]')
                || Boolean(block.dataset.live);
        }"""
    )
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    return float(page.evaluate("window.__cls"))


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (the context must bypass the CSP,
    which allows no injected script)."""
    return axe_run(page)["violations"]


def axe_run(page: Any) -> dict[str, Any]:
    """{"violations": [{id, impact, nodes}], "passes": number of rules passed}."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return {
                violations: result.violations.map((v) => ({
                    id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")),
                })),
                passes: result.passes.length,
            };
        }""",
        AXE_TAGS,
    )
    return dict(found)


def seo_audit(page: Any) -> dict[str, Any]:
    generic = json.dumps(sorted(GENERIC_LINK_TEXTS))
    script = SEO.replace("() => {", f"() => {{ const GENERIC = {generic};", 1)
    return dict(page.evaluate(script))


def focus_rings(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate(FOCUS_CONTRAST))
