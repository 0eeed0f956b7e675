"""One-click sales actions: signed, expiring links in the sales email (links.py), the key
they are signed with (keys.py, kept in SSM), and the routes that confirm and apply them
(routes.py, pages.py). See docs/architecture.md, "Sales follow-up"."""
