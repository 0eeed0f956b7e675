#!/usr/bin/env python3
"""Vigor Leads admin CLI. `python manage.py --help` lists the commands."""

import sys

from admin.cli import main

if __name__ == "__main__":
    sys.exit(main())
