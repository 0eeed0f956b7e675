"""Vigor Leads: the Chalice entry point. Everything is built in chalicelib.bootstrap."""

from chalicelib.bootstrap import create_app

app = create_app()
