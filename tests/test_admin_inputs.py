"""Every admin add form, found on the admin site, meets hostile input with field errors.

The admin is a set of forms like any other: a nested JSON list where a list of roles
was expected answered 500 (`set()` of a list) on stages, obligations and webhooks.
The models and forms are discovered, so a newly registered admin is covered.
"""

from __future__ import annotations

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.fields import ChoiceListField

pytestmark = pytest.mark.django_db

HOSTILE = {
    "number": "99999999999999999999",
    "date": "0001-01-01",
    "text": "x" * 70_000,
    "list": '[["provider"]]',
}


def _addable():
    root = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    request = type("Request", (), {"user": root})()
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_add_permission(request)
    ]


def _hostile_value(field: forms.Field):
    if isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField):
        return HOSTILE["number"]
    if isinstance(field, forms.SplitDateTimeField):
        return None
    if isinstance(field, forms.DateField | forms.DateTimeField):
        return HOSTILE["date"]
    if isinstance(field, forms.MultipleChoiceField | forms.JSONField):
        return HOSTILE["list"]
    if isinstance(field, forms.CharField):
        return HOSTILE["text"]
    return None


@pytest.fixture
def root_client(client):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(root)
    return client


@pytest.mark.parametrize(
    "model, model_admin", _addable(), ids=lambda value: getattr(value, "__name__", "")
)
def test_hostile_values_on_an_admin_add_form_are_field_errors(root_client, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    page = root_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = _hostile_value(field)
        if value is not None:
            data[name] = value
        elif isinstance(field, forms.SplitDateTimeField):
            data[f"{name}_0"], data[f"{name}_1"] = HOSTILE["date"], "00:00"
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
    before = model.objects.count()
    response = root_client.post(url, data)
    # The form comes back with its errors; nothing is saved.
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert model.objects.count() == before


def test_every_list_of_choices_is_checkboxes_in_the_admin(root_client):
    for model, _model_admin in _addable():
        for field in model._meta.get_fields():
            if isinstance(field, ChoiceListField):
                url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
                form = root_client.get(url).context["adminform"].form
                assert isinstance(form.fields[field.name].widget, forms.CheckboxSelectMultiple)


@pytest.mark.parametrize(
    "value", [[["provider"]], "provider", [1], [{"a": 1}], ["provider", "provider"], ["x"]]
)
def test_a_list_of_choices_refuses_anything_but_a_flat_list_of_known_values(value):
    from compliance.models import Obligation

    field = Obligation._meta.get_field("roles")
    with pytest.raises(Exception) as error:
        field.clean(value, None)
    assert error.type.__name__ == "ValidationError"


def test_a_list_of_known_values_is_kept():
    from compliance.models import Obligation

    assert Obligation._meta.get_field("roles").clean(["provider"], None) == ["provider"]
