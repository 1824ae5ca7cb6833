"""Admin for the obligations catalogue, the review intervals and the classifications.

The catalogue and the intervals are edited here. Classifications are proposed on the
initiative's page or through the API and kept as a record; the admin confirms a
proposal only through the same service (and the same rule: portfolio admins and the
compliance role).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from compliance.models import (
    Classification,
    ClassificationRevision,
    Obligation,
    ObligationItem,
    ObligationStage,
    ReviewInterval,
)
from compliance.services import classification_confirm
from core.formatting import counted
from initiatives.admin import NoDeleteMixin, ReadOnlyAdminMixin, StageChoicesMixin
from initiatives.exceptions import ServiceError


class ObligationStageInline(StageChoicesMixin, admin.TabularInline):
    model = ObligationStage
    extra = 0
    fields = ["framework", "stage"]


@admin.register(Obligation)
class ObligationAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Obligations in use on gates are kept (deactivate instead of deleting)."""

    list_display = ["code", "article", "title", "roles", "tiers", "requires_flag", "applies_from"]
    list_filter = ["requires_flag", "is_active", "applies_from"]
    search_fields = ["code", "article", "title"]
    ordering = ["applies_from", "code"]
    fields = [
        "code",
        "title",
        "guidance",
        "article",
        "article_url",
        "roles",
        "tiers",
        "requires_flag",
        "applies_from",
        "applies_from_source",
        "is_active",
    ]
    inlines = [ObligationStageInline]


@admin.register(ReviewInterval)
class ReviewIntervalAdmin(admin.ModelAdmin):
    list_display = ["tier", "months"]


class RevisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ClassificationRevision
    fk_name = "initiative"
    extra = 0
    fields = ["number", "tier", "state", "classified_by", "classified_at", "confirmed_by"]
    readonly_fields = fields


@admin.register(ClassificationRevision)
class ClassificationRevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "initiative",
        "number",
        "tier",
        "role",
        "state",
        "classified_by",
        "classified_at",
    ]
    list_filter = ["state", "tier", "role"]
    list_select_related = ["initiative", "classified_by"]
    search_fields = ["initiative__key", "initiative__name"]
    actions = ["confirm"]

    @admin.action(description="Confirm the selected proposals")
    def confirm(self, request, queryset):
        confirmed = 0
        for revision in queryset.filter(state=ClassificationRevision.State.PROPOSED):
            try:
                classification_confirm(
                    initiative=revision.initiative,
                    actor=request.user,
                    revision_number=revision.number,
                )
            except (PermissionDenied, ServiceError) as error:
                self.message_user(request, str(error), messages.ERROR)
                return
            confirmed += 1
        self.message_user(request, f"{counted(confirmed, 'classification')} confirmed.")


@admin.register(Classification)
class ClassificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["initiative", "tier", "role", "confirmed_at", "next_review_on"]
    list_filter = ["tier", "role"]
    list_select_related = ["initiative"]
    search_fields = ["initiative__key", "initiative__name"]


@admin.register(ObligationItem)
class ObligationItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["initiative", "obligation", "gate", "added_at", "dropped_at"]
    list_filter = ["obligation"]
    list_select_related = ["initiative", "obligation", "gate__stage"]
    search_fields = ["initiative__key"]
