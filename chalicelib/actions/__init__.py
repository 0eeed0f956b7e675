"""One-click sales actions: signed, expiring links in the sales email (links.py), signed
with the one link key (chalicelib/signing.py: LINK_KEY, kept in SSM), and the routes that
confirm and apply them (routes.py, pages.py). See docs/architecture.md, "Sales follow-up"."""
