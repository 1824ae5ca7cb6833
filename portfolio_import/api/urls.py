from rest_framework.routers import SimpleRouter

from portfolio_import.api import views

router = SimpleRouter()
router.register("imports", views.ImportViewSet, basename="import")

urlpatterns = router.urls
