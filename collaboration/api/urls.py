from rest_framework.routers import SimpleRouter

from collaboration.api import views

KEY = r"initiatives/(?P<key>[A-Z]{1,8}-[0-9]{1,12})"

router = SimpleRouter()
router.register(f"{KEY}/comments", views.CommentViewSet, basename="initiative-comment")
router.register(f"{KEY}/attachments", views.AttachmentViewSet, basename="initiative-attachment")

urlpatterns = router.urls
