"""manage.py seed_demo [--password P]: the demo portfolio, loaded from demo/data through the import.

Idempotent: people and teams are get-or-created, passwords are set on every
run, and a demo initiative already in Tollgate (matched by its external id) is
left as it is, so a second run changes nothing, on any day and whatever people
did in the demo meanwhile. The data files' dates are moved so the demo's
history ends today (see demo.loading).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.formatting import counted
from demo.seeding import DEMO_PASSWORD, DemoNotLoaded, demo_seed


class Command(BaseCommand):
    help = "Load an idempotent demo portfolio with users, teams and 18 months of history."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password for every demo user (default: {DEMO_PASSWORD}).",
        )

    def handle(self, *args, password: str, **options):
        try:
            summary = demo_seed(password=password)
        except DemoNotLoaded as error:
            for problem in error.report.problems[:20]:
                self.stderr.write(str(problem))
            raise CommandError(f"The demo data did not load: {error}") from error
        totals = summary.report.totals()
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                f"Demo portfolio: {counted(totals['create'], 'row')} created; "
                f"{counted(summary.already_present, 'initiative')} already present, "
                "left as they are."
            )
        )
        write(
            f"  {summary.initiatives} initiatives: "
            + ", ".join(f"{n} {status}" for status, n in sorted(summary.statuses.items()))
        )
        write(
            "  frameworks: "
            + ", ".join(f"{n} {slug}" for slug, n in sorted(summary.frameworks.items()))
        )
        write(
            f"  overdue: {summary.overdue}, stalled: {summary.stalled}, "
            f"gates in review: {summary.in_review}, measurements: {summary.measurements}"
        )
        shown = password if password == DEMO_PASSWORD else "the one given with --password"
        write(f"Demo logins (password: {shown}):")
        for person in summary.people:
            write(
                f"  {person['username']:<8} {person['first_name']} {person['last_name']}, "
                f"{person['title']}"
            )
