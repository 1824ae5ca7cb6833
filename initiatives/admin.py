"""Admin for frameworks, initiatives and what hangs off them.

Writes that carry workflow rules (starting an initiative, changing it, revising
a business case, recording a measurement, adding or removing a team member) go
through the same services the browser uses, so the activity log and the
derived columns stay right. History (activity, revisions, key counters) is
read-only here.
"""

from django.contrib import admin
from django.db.models import Count

from gates.services import (
    initiative_start,
    initiative_update,
    measurement_record,
    target_create,
)
from initiatives import services
from initiatives.models import (
    Activity,
    BusinessCase,
    BusinessCaseRevision,
    ChecklistItemTemplate,
    Framework,
    Initiative,
    KeyCounter,
    Measurement,
    Membership,
    Stage,
    Tag,
    Target,
)


class ReadOnlyAdminMixin:
    """A record of what happened: it can be read, never written from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NoDeleteMixin:
    """Rows whose removal would leave derived columns or the decision record wrong.

    Deleting a measurement, target or gate skips the services that keep
    Target.latest_*, Initiative.gate_due_on and the gate history consistent.
    """

    def has_delete_permission(self, request, obj=None):
        return False


class StageChoicesMixin:
    """Stage.__str__ names its framework; load both in one query for the stage select."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "stage":
            kwargs["queryset"] = Stage.objects.select_related("framework")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StageListFilter(admin.SimpleListFilter):
    title = "stage"
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [(stage.pk, str(stage)) for stage in Stage.objects.select_related("framework")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(stage_id=self.value())
        return queryset


# --- Frameworks ------------------------------------------------------------------


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["order", "key", "name", "min_weeks", "max_weeks", "has_exit_gate"]
    ordering = ["order"]
    show_change_link = True


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_default", "stage_count", "initiative_count", "created_at"]
    list_filter = ["is_default"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StageInline]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for stage_form in formset.forms:
            if isinstance(stage_form.instance, Stage) and "max_weeks" in stage_form.changed_data:
                services.stage_stall_dates_refresh(stage=stage_form.instance)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                stage_count=Count("stages", distinct=True),
                initiative_count=Count("initiatives", distinct=True),
            )
        )

    @admin.display(description="stages", ordering="stage_count")
    def stage_count(self, framework: Framework) -> int:
        return framework.stage_count

    @admin.display(description="initiatives", ordering="initiative_count")
    def initiative_count(self, framework: Framework) -> int:
        return framework.initiative_count


class ChecklistItemTemplateInline(admin.TabularInline):
    model = ChecklistItemTemplate
    extra = 0
    fields = ["order", "text", "required", "metric_key", "guidance"]
    ordering = ["order"]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "framework", "order", "expected_range", "has_exit_gate"]
    list_filter = ["framework", "has_exit_gate"]
    list_select_related = ["framework"]
    search_fields = ["name", "key", "framework__name"]
    ordering = ["framework", "order"]
    inlines = [ChecklistItemTemplateInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "max_weeks" in form.changed_data:
            # The stage's initiatives were given their stall dates as they entered it.
            services.stage_stall_dates_refresh(stage=obj)


@admin.register(ChecklistItemTemplate)
class ChecklistItemTemplateAdmin(StageChoicesMixin, admin.ModelAdmin):
    list_display = ["text", "stage", "order", "required", "metric_key"]
    list_filter = ["required", "stage__framework", StageListFilter]
    list_select_related = ["stage__framework"]
    search_fields = ["text", "metric_key"]
    ordering = ["stage__framework", "stage__order", "order"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "initiative_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(initiative_count=Count("initiatives"))

    @admin.display(description="initiatives", ordering="initiative_count")
    def initiative_count(self, tag: Tag) -> int:
        return tag.initiative_count


@admin.register(KeyCounter)
class KeyCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Editing the counter could hand out a key twice; it only ever grows.
    list_display = ["prefix", "last_value"]


# --- Initiatives -----------------------------------------------------------------


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = ["metric_key", "category", "comparator", "threshold", "unit", "status"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # New targets are added on the target page, through target_create.
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "stage_role", "allocation_percent"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # New members are added on the membership page, through membership_add.
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "team",
        "stage_name",
        "status",
        "owner",
        "gate_due_on",
        "stalls_on",
    ]
    list_display_links = ["key", "name"]
    list_filter = ["status", "framework", StageListFilter, "maturity_level", "team", "tags"]
    list_select_related = ["team", "owner", "stage"]
    search_fields = ["key", "name", "owner__username", "sponsor__username"]
    autocomplete_fields = ["team", "owner", "sponsor", "tags"]
    ordering = ["-pk"]
    list_per_page = 50
    # Counting 10,000 rows on every filtered page is wasted work.
    show_full_result_count = False

    add_fieldsets = [
        (None, {"fields": ["name", "framework", "team", "owner", "sponsor"]}),
        ("Description", {"fields": ["summary", "problem", "maturity_level"]}),
    ]
    fieldsets = [
        (None, {"fields": ["key", "name", "team", "owner", "sponsor", "tags"]}),
        ("Description", {"fields": ["summary", "problem", "maturity_level"]}),
        (
            "Lifecycle (changed by gate decisions)",
            {
                "fields": [
                    "framework",
                    "stage",
                    "stage_entered_on",
                    "status",
                    "gate_due_on",
                    "stalls_on",
                ]
            },
        ),
        ("Record", {"fields": ["version", "created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "key",
        "framework",
        "stage",
        "stage_entered_on",
        "status",
        "gate_due_on",
        "stalls_on",
        "version",
        "created_at",
        "updated_at",
    ]
    inlines = [TargetInline, MembershipInline]

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    @admin.display(description="stage", ordering="stage__order")
    def stage_name(self, initiative: Initiative) -> str:
        return initiative.stage.name

    def save_model(self, request, obj, form, change):
        if change:
            fields = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in Initiative.EDITABLE_FIELDS
            }
            if "tags" in form.changed_data:
                fields["tags"] = [tag.name for tag in form.cleaned_data["tags"]]
            if fields:
                initiative_update(initiative=obj, actor=request.user, **fields)
            return
        # Starting an initiative allocates its key and opens its first gate.

        created = initiative_start(
            actor=request.user,
            **{name: form.cleaned_data[name] for name in form.fields},
        )
        # The admin goes on to log and redirect using `obj`; give it the saved row.
        for field in Initiative._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request, form, formsets, change):
        # Tags were already set by initiative_update, which also logged the change.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class BusinessCaseRevisionInline(admin.TabularInline):
    model = BusinessCaseRevision
    extra = 0
    fields = ["number", "author", "created_at", "changes"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(BusinessCase)
class BusinessCaseAdmin(admin.ModelAdmin):
    list_display = [
        "initiative",
        "metric_name",
        "expected_annual_value",
        "total_investment",
        "cost_per_task_budget",
        "monthly_volume",
        "updated_at",
    ]
    list_select_related = ["initiative"]
    search_fields = ["initiative__key", "initiative__name", "metric_name"]
    raw_id_fields = ["initiative"]
    readonly_fields = ["initiative", "updated_at"]
    inlines = [BusinessCaseRevisionInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        # Every initiative gets its business case when it starts.
        return False

    @admin.display(description="total investment")
    def total_investment(self, case: BusinessCase):
        return case.total_investment

    def save_model(self, request, obj, form, change):
        # The service keeps a numbered revision of what changed, and logs it.
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in BusinessCase.TRACKED_FIELDS
        }
        if fields:
            services.business_case_update(initiative=obj.initiative, actor=request.user, **fields)


@admin.register(BusinessCaseRevision)
class BusinessCaseRevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["business_case", "number", "author", "created_at"]
    list_select_related = ["business_case__initiative", "author"]
    search_fields = ["business_case__initiative__key"]
    date_hierarchy = "created_at"
    show_full_result_count = False


# --- Production bar --------------------------------------------------------------


@admin.register(Target)
class TargetAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "initiative",
        "metric_key",
        "category",
        "comparator",
        "threshold",
        "unit",
        "status",
        "latest_value",
        "latest_measured_at",
    ]
    list_filter = ["status", "category", "comparator"]
    list_select_related = ["initiative"]
    search_fields = ["initiative__key", "initiative__name", "metric_key"]
    raw_id_fields = ["initiative"]
    readonly_fields = ["status", "latest_value", "latest_measured_at", "created_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # The threshold and comparator decide met/missed: changing them here would
        # leave the stored status and the linked checklist items stale.
        return ["initiative", "metric_key", "comparator", "threshold", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # target_create links the open gate's checklist items that name this metric.
        data = form.cleaned_data
        created = target_create(
            initiative=data["initiative"],
            actor=request.user,
            metric_key=data["metric_key"],
            threshold=data["threshold"],
            comparator=data["comparator"],
            category=data["category"],
            unit=data["unit"],
            description=data["description"],
        )
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(Measurement)
class MeasurementAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["target", "initiative_key", "value", "measured_at", "source", "recorded_by"]
    list_filter = ["source", "target__category"]
    list_select_related = ["target__initiative", "recorded_by"]
    search_fields = ["target__initiative__key", "target__metric_key"]
    raw_id_fields = ["target"]
    date_hierarchy = "measured_at"
    fields = ["target", "value", "measured_at", "source", "recorded_by", "created_at"]
    readonly_fields = ["source", "recorded_by", "created_at"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        # A measurement is evidence a gate may have been decided on; record a new one instead.
        return False

    @admin.display(description="initiative", ordering="target__initiative__key")
    def initiative_key(self, measurement: Measurement) -> str:
        return measurement.target.initiative.key

    def save_model(self, request, obj, form, change):
        # The service updates the target's latest value and the items that follow it.
        created = measurement_record(
            target=form.cleaned_data["target"],
            value=form.cleaned_data["value"],
            measured_at=form.cleaned_data["measured_at"],
            actor=request.user,
            source=Measurement.Source.MANUAL,
        )
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "initiative", "stage_role", "allocation_percent", "created_at"]
    list_filter = ["stage_role"]
    list_select_related = ["user", "initiative"]
    search_fields = ["initiative__key", "initiative__name", "user__username", "user__email"]
    raw_id_fields = ["initiative"]
    autocomplete_fields = ["user"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Who is on which initiative decides who sees it: that changes through
        # membership_add and membership_remove, which log it (and so move on the version
        # of the kept boards). Here a membership's role and allocation change.
        return [] if obj is None else ["initiative", "user"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.membership_add(
            initiative=obj.initiative,
            actor=request.user,
            user=obj.user,
            stage_role=obj.stage_role,
            allocation_percent=obj.allocation_percent,
        )
        obj.pk = created.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("initiative", "user"):
            services.membership_remove(membership=membership, actor=request.user)


# --- Activity log ----------------------------------------------------------------


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "initiative_key",
        "verb",
        "object_type",
        "object_repr",
        "field",
        "actor",
    ]
    list_filter = ["verb", "object_type"]
    list_select_related = ["actor"]
    search_fields = ["initiative_key", "object_repr", "message", "actor__username"]
    date_hierarchy = "created_at"
    show_full_result_count = False
