import os
import sys

from django import forms
from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_tables(sender, using="default", **kwargs) -> None:
    """After every `migrate`: the tables of the database cache, when CACHES uses one.

    A migration runs once, so the table it created is missing when the database was
    migrated while REDIS_URL was set, or the cache settings changed since. createcachetable
    makes only the tables that are missing and does nothing for other backends.
    """
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


def portfolio_migrated(sender, **kwargs) -> None:
    """After every `migrate`, which each deploy runs: the figures kept in the cache (which
    outlives a deploy) are drawn again. Data migrations write through historical models,
    which the version's receivers never hear from, and a kept board's columns were rendered
    by the templates of the release before."""
    from core.versions import portfolio_changed

    portfolio_changed()


class CoreConfig(AppConfig):
    """What every app shares: the event registry, the web and HTMX helpers, /healthz."""

    name = "core"
    verbose_name = "Tollgate core"

    def ready(self) -> None:
        post_migrate.connect(
            create_cache_tables, sender=self, dispatch_uid="core.create_cache_tables"
        )
        # After the cache tables: a database cache keeps the version in one.
        post_migrate.connect(
            portfolio_migrated, sender=self, dispatch_uid="core.portfolio_migrated"
        )

        # The admin builds its model forms from ModelAdmin.form (and each inline's form):
        # bounded like every page's form, so a date in the year 1, a number beyond its
        # column or an endless text cannot be saved there either (core.forms).
        from django.contrib.admin.options import BaseModelAdmin

        from core.forms import BoundedModelForm

        if BaseModelAdmin.form is forms.ModelForm:
            BaseModelAdmin.form = BoundedModelForm

        from core import beat

        # Without a broker, the development server runs the beat schedule itself (core.beat).
        if beat.should_start(sys.argv, os.environ):
            from config.celery import app

            beat.start(app)
