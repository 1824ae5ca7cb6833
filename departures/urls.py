from django.urls import path

from . import views

app_name = "departures"

urlpatterns = [
    path("people/departures/", views.departure_list, name="list"),
    path("people/<int:pk>/departure/", views.departure_person, name="person"),
]
