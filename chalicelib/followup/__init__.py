"""What happens after a lead's email went out: chat alerts, reminders and escalation, the
daily digest (sweeps.py runs them on the 5-minute schedule)."""
