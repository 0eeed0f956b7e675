"""Attachments to inquiries: files the browser uploads straight to S3 (POST /uploads hands
out a presigned POST), checked and attached to the lead when the inquiry is submitted.
Loaded only by the requests that use them (cold start)."""
