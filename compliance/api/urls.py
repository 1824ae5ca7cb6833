from rest_framework.routers import SimpleRouter

from compliance.api import views

# Any segment: a key that cannot exist answers 404 from the lookup, like the other routes.
KEY = r"initiatives/(?P<key>[^/.]+)"

router = SimpleRouter()
router.register(f"{KEY}/classification", views.ClassificationViewSet, basename="classification")

urlpatterns = router.urls
