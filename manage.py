#!/usr/bin/env python3
"""Vigor Leads command line: the admin commands (admin/) plus `serve`, the local service for
a developer's machine (devtools/). `python manage.py --help` lists the commands."""

import sys
from collections.abc import Sequence

from admin import cli
from devtools import serve


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, extra_commands=(serve.register,))


if __name__ == "__main__":
    sys.exit(main())
