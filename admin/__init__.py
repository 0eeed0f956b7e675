"""Admin-side code (manage.py): provisioning, seeding, local serving. Never deployed."""
