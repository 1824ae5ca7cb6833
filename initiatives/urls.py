from django.urls import path

from initiatives import converters  # noqa: F401  (registers <initiative_key:…>)

from . import views

app_name = "initiatives"

urlpatterns = [
    path("", views.board, name="list"),
    path("initiatives/new/", views.initiative_create, name="create"),
    path("initiatives/<initiative_key:key>/", views.initiative_detail, name="detail"),
    path("initiatives/<initiative_key:key>/activity/", views.initiative_activity, name="activity"),
    path("initiatives/<initiative_key:key>/edit/", views.initiative_edit, name="edit"),
    path("initiatives/<initiative_key:key>/resume/", views.initiative_resume_view, name="resume"),
    path(
        "initiatives/<initiative_key:key>/team/add/", views.membership_add_view, name="member-add"
    ),
    path(
        "initiatives/<initiative_key:key>/team/<int:membership_id>/remove/",
        views.membership_remove_view,
        name="member-remove",
    ),
    path(
        "initiatives/<initiative_key:key>/business-case/",
        views.business_case_edit,
        name="business-case",
    ),
    path("initiatives/<initiative_key:key>/targets/new/", views.target_add, name="target-add"),
    path(
        "initiatives/<initiative_key:key>/targets/<int:target_id>/measurements/",
        views.measurement_add,
        name="measurement-add",
    ),
]
