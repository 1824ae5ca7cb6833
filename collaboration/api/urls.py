from rest_framework.routers import SimpleRouter

from collaboration.api import views

# Any segment: a key that cannot exist answers 404 from the lookup, like the other routes.
KEY = r"initiatives/(?P<key>[^/.]+)"

router = SimpleRouter()
router.register(f"{KEY}/comments", views.CommentViewSet, basename="initiative-comment")
router.register(f"{KEY}/attachments", views.AttachmentViewSet, basename="initiative-attachment")

urlpatterns = router.urls
