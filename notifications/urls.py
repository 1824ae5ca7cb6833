from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("bell/", views.bell, name="bell"),
    path("preferences/", views.preferences_update, name="preferences"),
    path("read-all/", views.notifications_read_all, name="read-all"),
]
