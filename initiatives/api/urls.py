from rest_framework.routers import SimpleRouter

from initiatives.api import views

router = SimpleRouter()
router.register("initiatives", views.InitiativeViewSet, basename="initiative")
router.register("targets", views.TargetViewSet, basename="target")
router.register("measurements", views.MeasurementViewSet, basename="measurement")
router.register("activity", views.ActivityViewSet, basename="activity")
router.register("portfolio", views.PortfolioViewSet, basename="portfolio")

urlpatterns = router.urls
