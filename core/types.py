"""Types every app's services share."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

# Who made a change: a person, or None for the system (a task, an integration's batch).
Actor = AbstractBaseUser | None
