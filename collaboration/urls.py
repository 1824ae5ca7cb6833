from django.urls import path

from initiatives import converters  # noqa: F401  (registers <initiative_key:…>)

from . import views

app_name = "collaboration"

urlpatterns = [
    path("initiatives/<initiative_key:key>/discussion/", views.discussion, name="discussion"),
    path("initiatives/<initiative_key:key>/comments/", views.comment_post, name="comment-add"),
    path(
        "initiatives/<initiative_key:key>/mentions/",
        views.mention_suggestions,
        name="mention-suggestions",
    ),
    path("initiatives/<initiative_key:key>/live/", views.live, name="live"),
    path("initiatives/<initiative_key:key>/watch/", views.watch_toggle, name="watch"),
    path("comments/<int:pk>/edit/", views.comment_edit_view, name="comment-edit"),
    path("comments/<int:pk>/delete/", views.comment_delete_view, name="comment-delete"),
    path("items/<int:pk>/files/", views.item_file_upload, name="item-file-add"),
    path("files/<int:pk>/", views.file_download, name="file"),
    path("files/<int:pk>/delete/", views.file_delete, name="file-delete"),
]
