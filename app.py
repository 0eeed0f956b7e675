"""Vigor Leads: the Chalice entry point. Everything is built in chalicelib.bootstrap."""

import sys
from pathlib import Path

from chalicelib.bootstrap import create_app

if Path(sys.argv[0]).name == "chalice":  # imported by `chalice deploy`/`package`, not Lambda
    from admin.predeploy import refuse_a_bad_deploy

    refuse_a_bad_deploy(sys.argv[1:])

app = create_app()
