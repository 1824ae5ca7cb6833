from django.urls import path

from . import views

app_name = "initiatives"

urlpatterns = [
    path("", views.board, name="list"),
    path("initiatives/new/", views.initiative_create, name="create"),
    path("initiatives/<str:key>/", views.initiative_detail, name="detail"),
    path("initiatives/<str:key>/activity/", views.initiative_activity, name="activity"),
    path("initiatives/<str:key>/edit/", views.initiative_edit, name="edit"),
    path("initiatives/<str:key>/resume/", views.initiative_resume_view, name="resume"),
    path("initiatives/<str:key>/business-case/", views.business_case_edit, name="business-case"),
    path("initiatives/<str:key>/targets/new/", views.target_add, name="target-add"),
    path(
        "initiatives/<str:key>/targets/<int:target_id>/measurements/",
        views.measurement_add,
        name="measurement-add",
    ),
]
