from rest_framework.routers import SimpleRouter

from gates.api import views

router = SimpleRouter()
router.register("gates", views.GateViewSet, basename="gate")
router.register("checklist-items", views.ChecklistItemViewSet, basename="checklist-item")
router.register("transitions", views.StageTransitionViewSet, basename="transition")

urlpatterns = router.urls
