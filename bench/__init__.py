"""`make bench`: the budgets of docs/architecture.md, measured in one run (bench/__main__.py)."""
