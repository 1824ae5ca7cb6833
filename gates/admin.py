"""Admin for gates, their checklists, gatekeepers, votes, decisions and transitions.

Decisions are taken by gatekeepers in the product, never here: the workflow
fields of a gate are read-only, and votes, decisions and transitions are a
record. Checklist edits, the gate rule and new gatekeepers go through the
gate services so they are logged like any other change.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from gates import guards, services
from gates.models import (
    ChecklistItem,
    Decision,
    Gate,
    GateDecision,
    Gatekeeper,
    StageTransition,
    Vote,
)
from initiatives.admin import NoDeleteMixin, ReadOnlyAdminMixin, StageChoicesMixin, StageListFilter
from initiatives.exceptions import InvalidState

CHECKLIST_EDITABLE_FIELDS = ["state", "na_reason", "evidence_url", "note"]


def pretty_json(value) -> str:
    if value in (None, "", {}, []):
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2))


def checklist_item_save(*, item: ChecklistItem, form, actor) -> None:
    changed = {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in CHECKLIST_EDITABLE_FIELDS
    }
    if changed:
        services.checklist_item_update(item=item, actor=actor, **changed)


class ChecklistItemInline(NoDeleteMixin, admin.TabularInline):
    model = ChecklistItem
    extra = 0
    # Each row's heading already shows the item's text.
    fields = ["order", "required", "state", "na_reason", "evidence_url", "target"]
    readonly_fields = ["order", "required", "target"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})},
    }
    ordering = ["order"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Items are copied from the stage's template when the gate opens.
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_pending:
            return self.fields  # a decided gate's checklist is frozen
        return self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("target")


class GatekeeperInline(admin.TabularInline):
    model = Gatekeeper
    extra = 0
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None):
        return obj is None or obj.is_pending

    def has_delete_permission(self, request, obj=None):
        # Removed through gatekeeper_remove (GateAdmin.save_formset): the last active
        # gatekeeper of a gate in review stays.
        return obj is None or obj.is_pending

    def has_change_permission(self, request, obj=None):
        return False


class VoteInline(admin.TabularInline):
    model = Vote
    extra = 0
    fields = ["round", "voter", "decision", "rationale", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("voter")


@admin.register(Gate)
class GateAdmin(NoDeleteMixin, StageChoicesMixin, admin.ModelAdmin):
    list_display = [
        "initiative",
        "stage_name",
        "state",
        "decision",
        "due_on",
        "readiness_display",
        "decided_at",
    ]
    list_filter = ["state", "decision", "rule", "stage__framework", StageListFilter]
    list_select_related = ["initiative", "stage"]
    search_fields = ["initiative__key", "initiative__name"]
    raw_id_fields = ["initiative"]
    date_hierarchy = "opened_at"
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["initiative", "stage", "state", "rule", "due_on", "opened_at"]}),
        ("Review", {"fields": ["review_round", "review_requested_at", "review_requested_by"]}),
        (
            "Decision",
            {
                "fields": [
                    "decision",
                    "decided_by",
                    "decided_at",
                    "rationale",
                    "override_justification",
                    "snapshot_display",
                    "advance_refusal",
                ]
            },
        ),
    ]
    readonly_fields = [
        "initiative",
        "stage",
        "state",
        "opened_at",
        "review_round",
        "review_requested_at",
        "review_requested_by",
        "decision",
        "decided_by",
        "decided_at",
        "rationale",
        "override_justification",
        "snapshot_display",
        "advance_refusal",
    ]
    inlines = [ChecklistItemInline, GatekeeperInline, VoteInline]

    def has_add_permission(self, request):
        # Gates open from the stage template when an initiative enters a stage.
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).with_readiness()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_pending:
            return [*self.readonly_fields, "rule", "due_on"]
        return self.readonly_fields

    @admin.display(description="stage", ordering="stage__order")
    def stage_name(self, gate: Gate) -> str:
        return gate.stage.name

    @admin.display(description="readiness")
    def readiness_display(self, gate: Gate) -> str:
        cleared, total = gate.readiness_counts()
        return f"{cleared}/{total}"

    @admin.display(description="snapshot (what the deciders saw)")
    def snapshot_display(self, gate: Gate) -> str:
        return pretty_json(gate.snapshot)

    @admin.display(description="may it be passed?")
    def advance_refusal(self, gate: Gate) -> str:
        # The same guards a vote is checked against (gates.guards).
        return guards.refusal(gate=gate, decision=Decision.GO) or "No rule refuses a go."

    def save_model(self, request, obj, form, change):
        if "rule" in form.changed_data:
            # The form already set obj.rule; the service compares against the stored row.
            stored = Gate.objects.select_related("initiative").get(pk=obj.pk)
            services.gate_rule_set(gate=stored, rule=form.cleaned_data["rule"], actor=request.user)
            obj.version = stored.version
        if "due_on" in form.changed_data:
            stored = services.gate_reschedule(
                gate=obj, due_on=form.cleaned_data["due_on"], actor=request.user
            )
            obj.version = stored.version

    def save_formset(self, request, form, formset, change):
        if formset.model not in (ChecklistItem, Gatekeeper):
            super().save_formset(request, form, formset, change)
            return
        # The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if not row.has_changed():
                continue
            if formset.model is ChecklistItem:
                checklist_item_save(item=row.instance, form=row, actor=request.user)
                formset.changed_objects.append((row.instance, row.changed_data))
            elif row in formset.deleted_forms:
                if row.instance.pk:
                    try:
                        services.gatekeeper_remove(
                            gate=form.instance, user=row.instance.user, actor=request.user
                        )
                    except InvalidState as error:
                        messages.error(request, error.message)
                    else:
                        formset.deleted_objects.append(row.instance)
            elif row.instance.pk is None:
                gatekeeper = services.gatekeeper_add(
                    gate=form.instance, user=row.cleaned_data["user"], actor=request.user
                )
                formset.new_objects.append(gatekeeper)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["text", "initiative_key", "stage_name", "required", "state", "updated_at"]
    list_filter = ["state", "required", "is_condition", "gate__state"]
    list_select_related = ["gate__initiative", "gate__stage"]
    search_fields = ["text", "gate__initiative__key", "metric_key"]
    show_full_result_count = False
    fields = [
        "gate",
        "order",
        "text",
        "guidance",
        "required",
        "metric_key",
        "target",
        "is_condition",
        "condition_due_on",
        "state",
        "na_reason",
        "evidence_url",
        "note",
        "updated_by",
        "updated_at",
        "version",
    ]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.gate.is_pending:
            return [name for name in self.fields if name not in CHECKLIST_EDITABLE_FIELDS]
        return self.fields

    @admin.display(description="initiative", ordering="gate__initiative__key")
    def initiative_key(self, item: ChecklistItem) -> str:
        return item.gate.initiative.key

    @admin.display(description="stage", ordering="gate__stage__order")
    def stage_name(self, item: ChecklistItem) -> str:
        return item.gate.stage.name

    def save_model(self, request, obj, form, change):
        checklist_item_save(item=obj, form=form, actor=request.user)


@admin.register(Gatekeeper)
class GatekeeperAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["user", "initiative_key", "stage_name", "gate_state"]
    list_filter = ["gate__state"]
    list_select_related = ["user", "gate__initiative", "gate__stage"]
    search_fields = ["user__username", "gate__initiative__key"]
    raw_id_fields = ["gate"]
    autocomplete_fields = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request):
        # Add gatekeepers on the gate's page, where the gate's state is checked.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="initiative", ordering="gate__initiative__key")
    def initiative_key(self, gatekeeper: Gatekeeper) -> str:
        return gatekeeper.gate.initiative.key

    @admin.display(description="stage")
    def stage_name(self, gatekeeper: Gatekeeper) -> str:
        return gatekeeper.gate.stage.name

    @admin.display(description="gate state", ordering="gate__state")
    def gate_state(self, gatekeeper: Gatekeeper) -> str:
        return gatekeeper.gate.get_state_display()


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["gate", "round", "voter", "decision", "created_at"]
    list_filter = ["decision"]
    list_select_related = ["gate__initiative", "gate__stage", "voter"]
    search_fields = ["gate__initiative__key", "voter__username"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(GateDecision)
class GateDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["gate", "round", "decision", "decided_by", "decided_at"]
    list_filter = ["decision"]
    list_select_related = ["gate__initiative", "gate__stage", "decided_by"]
    search_fields = ["gate__initiative__key"]
    date_hierarchy = "decided_at"
    exclude = ["snapshot"]
    readonly_fields = ["snapshot_display"]
    show_full_result_count = False

    @admin.display(description="snapshot (what the deciders saw)")
    def snapshot_display(self, decision: GateDecision) -> str:
        return pretty_json(decision.snapshot)


@admin.register(StageTransition)
class StageTransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["initiative", "from_stage", "to_stage", "decision", "transitioned_at"]
    list_filter = ["decision", "to_stage__framework"]
    list_select_related = ["initiative", "from_stage__framework", "to_stage__framework"]
    search_fields = ["initiative__key", "initiative__name"]
    date_hierarchy = "transitioned_at"
    show_full_result_count = False
