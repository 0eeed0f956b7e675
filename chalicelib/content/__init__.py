"""News and contact content: routes (Blueprint) and the DynamoDB repository."""

import re

# An article or category slug: lowercase words joined by single hyphens.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
