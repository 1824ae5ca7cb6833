"""One reminder scan, without a worker: python manage.py send_reminders [--dry-run]."""

from django.core.management.base import BaseCommand

from core.formatting import counted
from notifications.services import notifications_send_now, reminder_scan


class Command(BaseCommand):
    help = (
        "Scan the portfolio once for gates due soon, overdue gates, escalations, quiet "
        "initiatives and reviews waiting; create the notifications and email them from this "
        "process. With --dry-run, print what would be sent and write nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be sent; write nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        if dry_run:
            result = reminder_scan(dry_run=True)
            for item in result.planned:
                address = item.recipient.email or "no email address"
                self.stdout.write(
                    f"{item.kind:<15} {item.recipient.get_username()} <{address}>: {item.subject}"
                )
            self.stdout.write(f"{counted(len(result.planned), 'notification')} would be created.")
            return
        result = reminder_scan(enqueue=False)
        counts = notifications_send_now(ids=result.to_send)
        self.stdout.write(
            f"{counted(result.created, 'notification')} created, {result.redriven} re-driven; "
            f"{counts['sent']} emailed, {counts['retry_later']} left for a retry, "
            f"{counts['failed']} failed."
        )
