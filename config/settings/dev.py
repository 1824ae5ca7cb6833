"""Local development: DEBUG on, a throwaway secret key, email kept as files.

Without EMAIL_URL or EMAIL_BACKEND, each email is written to a file under `mail/` in the
project (one file per connection) instead of the console, where the demo's first reminder
scan printed some 2,300 lines before the address of the running app.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-never-use-in-production")

from .base import *  # noqa: F403

if "EMAIL_URL" not in env and "EMAIL_BACKEND" not in env:  # noqa: F405
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = BASE_DIR / "mail"  # noqa: F405
