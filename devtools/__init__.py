"""What only runs on a developer's machine, never on AWS: the local API and demo-site servers
(`make run`), the moto emulator and its patches, and the live-service harness that the tests
and the bench share. Nothing in chalicelib/ or admin/ commands depends on it at import time."""
