from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("teams/", views.team_list, name="list"),
    path("teams/<slug:slug>/", views.team_detail, name="detail"),
    path("teams/<slug:slug>/members/", views.team_member_add, name="member-add"),
    path("teams/<slug:slug>/members/<int:pk>/role/", views.team_member_role, name="member-role"),
    path(
        "teams/<slug:slug>/members/<int:pk>/remove/",
        views.team_member_remove,
        name="member-remove",
    ),
    path("people/", views.people, name="people"),
    path("people/invite/", views.user_invite, name="invite"),
]
