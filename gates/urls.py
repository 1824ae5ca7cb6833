from django.urls import path

from . import views

app_name = "gates"

urlpatterns = [
    path("items/<int:pk>/", views.item_update, name="item"),
    path("gates/awaiting/", views.awaiting, name="awaiting"),
    path("gates/awaiting/count/", views.awaiting_count, name="awaiting-count"),
    path("gates/<int:pk>/review/", views.review_request, name="review"),
    path("gates/<int:pk>/vote/", views.vote, name="vote"),
    path("gates/<int:pk>/gatekeepers/", views.gatekeeper_create, name="gatekeeper-add"),
    path(
        "gates/<int:pk>/gatekeepers/<int:user_id>/remove/",
        views.gatekeeper_delete,
        name="gatekeeper-remove",
    ),
    path("gates/<int:pk>/rule/", views.rule_update, name="rule"),
]
