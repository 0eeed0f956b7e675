"""`make bench`: the DESIGN.md budgets, measured in one run (see bench/__main__.py)."""
