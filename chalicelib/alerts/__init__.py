"""Chat alerts, the second channel: a short line per new lead to WeCom, DingTalk, Slack or a
signed generic webhook, sent by the scheduled sweep (never by the request taking the lead)."""
