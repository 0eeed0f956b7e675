"""Test data shared by every tier: the stage, the site, the addresses, a typical buyer."""

from __future__ import annotations

from chalicelib.leads.model import Inquiry

REGION = "us-east-1"
STAGE = "test"
SITE = "https://www.vigorautomobile.com"
SENDER = "Vigor Leads <leads@vigorautomobile.com>"
SALES = "sales@vigorautomobile.com"

# An inquiry as a German buyer sends it from the contact page.
BUYER = {
    "name": "Hans Müller",
    "email": "hans.mueller@example.com",
    "message": "Please quote 200 sets of front brake pads.\nDelivery to Hamburg.",
    "company": "Autoteile Nord GmbH",
    "country": "Germany",
    "phone": "+49 40 1234567",
    "product": "Brake pads 04465-33450",
    "quantity": 200,
    "page": f"{SITE}/contact.html",
}

# The same buyer's inquiry once validated (what the service and the store are given).
HANS = Inquiry(
    name="Hans Müller",
    email="hans@example.com",
    message="Please quote 200 sets of brake pads.",
    locale="en",
    product="Brake pads",
    quantity=200,
)

# Seed articles (seed/articles): the newest, its older neighbour, the oldest.
CATL = "catl-signs-agreement-to-build-manufacturing-base-in-shanghai"
MIRROR = "how-to-adjust-the-car-mirror"
OLDEST = "new-website-online"
