from django.contrib import admin

from core.formatting import counted
from notifications.models import Notification, NotificationPreference, ReminderPolicy


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "framework",
        "due_soon_days",
        "overdue_every_days",
        "escalate_after_days",
        "escalate_every_days",
        "quiet_after_days",
        "review_waiting_days",
    ]
    list_select_related = ["framework"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_digest", "email_reminders"]
    list_filter = ["email_digest", "email_reminders"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "recipient", "initiative", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind", "created_at"]
    list_select_related = ["recipient", "initiative"]
    search_fields = ["subject", "dedupe_key", "recipient__username", "initiative__key"]
    date_hierarchy = "created_at"
    raw_id_fields = ["recipient", "initiative", "gate"]
    readonly_fields = [
        "dedupe_key",
        "attempts",
        "last_error",
        "scan_id",
        "enqueued_at",
        "sent_at",
        "created_at",
    ]
    actions = ["retry"]

    @admin.action(description="Send the selected failed notifications again")
    def retry(self, request, queryset):
        from notifications.services import notifications_retry_failed

        count = notifications_retry_failed(queryset=queryset)
        self.message_user(request, f"{counted(count, 'notification')} queued again.")
