from rest_framework.routers import SimpleRouter

from teams.api import views

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="team")

urlpatterns = router.urls
