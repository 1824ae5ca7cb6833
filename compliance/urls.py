from django.urls import path

from initiatives import converters  # noqa: F401  (registers <initiative_key:…>)

from . import views

app_name = "compliance"

urlpatterns = [
    path(
        "initiatives/<initiative_key:key>/classification/",
        views.classification,
        name="classification",
    ),
    path(
        "initiatives/<initiative_key:key>/classification/confirm/",
        views.classification_confirm_view,
        name="confirm",
    ),
]
