"""Boundary values into every API input and every form: a 4xx naming the field, never a 5xx.

Nothing here is listed by hand. The API operations come from the OpenAPI schema (made from
the URL conf and the router), the input serializers are every subclass of StrictSerializer
and QuerySerializer, and the forms are every form class defined in Tollgate's apps plus the
forms the URL conf's views are configured with. A new endpoint, serializer or form is
driven here as soon as it exists.

The values are what breaks inputs: huge and tiny numbers, booleans and numeric strings,
far past and far future dates (read in a time zone far east and one far west of UTC),
long, nested and control-character strings.
"""

from __future__ import annotations

import datetime
import inspect
import json
from decimal import Decimal

import pytest
from django import forms
from django.apps import apps
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiauth.serializers import QuerySerializer, StrictSerializer
from core.bounds import EARLIEST_DATE, FLOAT_LIMIT, LATEST_DATE, date_in_range
from core.forms import BoundedModelForm
from initiatives.models import Framework
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

# Far east (UTC+14) and far west (UTC-11) of UTC.
TIME_ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago"]
EXAMPLES = 40

DATES = [
    "0001-01-01",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "1899-12-31T23:59:59",
    "1900-01-01T00:00:00",
    "2200-12-31T23:59:59",
    "2201-01-01",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59-11:00",
    "2026-02-30",
    "2026-01-01T25:00:00",
]
NUMBERS = [
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    -0.0,
    2**31,
    2**31 - 1,
    -(2**31) - 1,
    2**63,
    2**64 + 1,
    10**30,
    FLOAT_LIMIT,
    FLOAT_LIMIT * 10,
    0,
    -1,
]
TEXT = [
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "0x10",
    "1_000",
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x1b[31m\u202e\ufeff\u200b",
    "x" * 256,
    "x" * 20_001,
    "é" * 5000,
    "true",
    "null",
]

scalars = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(TEXT),
    st.sampled_from(DATES),
    st.booleans(),
    st.none(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
# Forms and query strings carry text only.
form_values = st.one_of(
    st.sampled_from(TEXT),
    st.sampled_from(DATES),
    st.sampled_from([str(number) for number in NUMBERS]),
    st.sampled_from(["True", "False", "on", "2026-01-01T00:00", "2026-01-01 12:00"]),
    st.text(max_size=50),
)
hypothesis_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# --- Discovery --------------------------------------------------------------------------


def _project_modules() -> set[str]:
    root = str(apps.get_app_config("initiatives").path).rsplit("/", 1)[0]
    return {config.name for config in apps.get_app_configs() if config.path.startswith(root)}


def _subclasses(base) -> list[type]:
    found, stack = [], [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.split(".")[0] in _project_modules():
                found.append(sub)
    return sorted(set(found), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _url_conf_forms() -> list[type]:
    """Form classes the URL conf's views are configured with (e.g. the sign-in form)."""
    found = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                initkwargs = getattr(pattern.callback, "view_initkwargs", {}) or {}
                view_class = getattr(pattern.callback, "view_class", None)
                # The form the view uses: LoginView's authentication_form wins over form_class.
                for name in ("authentication_form", "form_class"):
                    form = initkwargs.get(name) or getattr(view_class, name, None)
                    if isinstance(form, type) and issubclass(form, forms.BaseForm):
                        found.append(form)
                        break

    walk(get_resolver().url_patterns)
    return found


def _admin_forms() -> list[type]:
    """Form classes the admin site uses: its sign-in and password forms, and every
    ModelAdmin's own form, add form and change-password form."""
    from django.contrib import admin
    from django.contrib.admin import forms as admin_forms

    found = [
        admin.site.login_form or admin_forms.AdminAuthenticationForm,
        admin.site.password_change_form or admin_forms.AdminPasswordChangeForm,
    ]
    for model_admin in admin.site._registry.values():
        for name in ("form", "add_form", "change_password_form"):
            form = getattr(model_admin, name, None)
            # The bare model form every ModelAdmin starts from is checked, built for
            # each model, by test_every_admin_form_field_is_bounded.
            if isinstance(form, type) and form not in (forms.ModelForm, BoundedModelForm):
                found.append(form)
    return found


def _forms() -> list[type]:
    get_resolver().url_patterns  # imports every view, and with them every form  # noqa: B018
    project = _project_modules()
    # Tollgate's own forms, and whatever form the URL conf and the admin use, from
    # whatever package (Django's account forms were unbounded until used through here).
    own = [form for form in _subclasses(forms.BaseForm) if form.__module__ != "core.forms"]
    own = [form for form in own if form.__module__.split(".")[0] in project]
    return sorted(
        {*own, *_url_conf_forms(), *_admin_forms()},
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def _serializers() -> list[type]:
    get_resolver().url_patterns  # noqa: B018
    return [*_subclasses(StrictSerializer), *_subclasses(QuerySerializer)]


def _json_operations() -> list[tuple[str, str, list[str]]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    schemas = schema["components"]["schemas"]
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body is None:
                continue
            component = schemas[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
            found.append((method.upper(), path, sorted(component.get("properties", {}))))
    return sorted(found)


def test_discovery_finds_the_inputs():
    # Guards the discovery itself: if these move, the walks above must follow.
    names = {cls.__name__ for cls in _serializers()}
    assert {"MeasurementInputSerializer", "BusinessCaseUpdateSerializer"} <= names
    assert "InitiativeFilterSerializer" in names
    form_names = {cls.__name__ for cls in _forms()}
    assert {"MeasurementForm", "InitiativeForm", "SignInForm", "BusinessCaseForm"} <= form_names
    # The account forms of the URL conf and the admin site's forms.
    assert {
        "BoundedSetPasswordForm",
        "BoundedPasswordChangeForm",
        "BoundedAdminAuthenticationForm",
        "BoundedAdminSitePasswordChangeForm",
        "BoundedAdminPasswordChangeForm",
        "BoundedUserCreationForm",
        "BoundedUserChangeForm",
    } <= form_names
    assert len(_json_operations()) >= 8


# --- Serializers ------------------------------------------------------------------------


def _error_names(errors: dict) -> set[str]:
    return {str(name).split(".")[0] for name in errors}


@pytest.mark.parametrize("zone", TIME_ZONES)
@pytest.mark.parametrize("serializer_class", _serializers(), ids=lambda cls: cls.__name__)
def test_every_input_serializer_names_the_field_it_refuses(
    serializer_class, zone, settings, initiative
):
    settings.TIME_ZONE = zone
    names = [name for name, field in serializer_class().fields.items() if not field.read_only]
    if not names:
        pytest.skip("no writable fields")

    @given(name=st.sampled_from(names), value=values, as_text=st.booleans())
    @hypothesis_settings
    def run(name, value, as_text):
        data = {name: value}
        if as_text or issubclass(serializer_class, QuerySerializer):
            from django.http import QueryDict

            query = QueryDict(mutable=True)
            query[name] = value if isinstance(value, str) else json.dumps(value)
            data = query
        serializer = serializer_class(data=data, partial=True)
        if serializer.is_valid():
            _assert_within_bounds(serializer.validated_data)
        else:
            assert _error_names(serializer.errors) & {name, "non_field_errors"}, (
                name,
                value,
                serializer.errors,
            )

    run()


def _assert_within_bounds(cleaned: dict) -> None:
    for name, value in cleaned.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, float | int | Decimal):
            assert abs(value) <= max(FLOAT_LIMIT, 2**63), (name, value)
        elif isinstance(value, datetime.date):
            assert date_in_range(value), (name, value)
        elif isinstance(value, str):
            assert len(value) <= 20_000, name


# --- The API, end to end ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("zone", TIME_ZONES)
def test_every_api_write_answers_4xx_naming_the_field_never_5xx(
    zone, settings, initiative, gate, owner
):
    settings.TIME_ZONE = zone
    settings.TOLLGATE_API_TOKEN_RATE = "100000/minute"
    target = TargetFactory(initiative=initiative, metric_key="accuracy")
    client = token_client(owner)
    client.raise_request_exception = False
    ids = {"gates": gate.pk, "checklist-items": gate.items.first().pk, "targets": target.pk}
    operations = _json_operations()

    @given(operation=st.sampled_from(operations), value=values, data=st.data())
    @hypothesis_settings
    def run(operation, value, data):
        method, path, properties = operation
        name = data.draw(st.sampled_from(properties or ["value"]))
        url = path.replace("{key}", initiative.key).replace("{slug}", initiative.team.slug)
        for collection, pk in ids.items():
            if path.startswith(f"/api/v1/{collection}/{{id}}"):
                url = url.replace("{id}", str(pk))
        body = {name: value}
        with transaction.atomic():
            response = client.generic(
                method, url, json.dumps(body), content_type="application/json"
            )
            transaction.set_rollback(True)
        assert response.status_code < 500, (method, url, body, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), (method, url)
        if response.status_code == 400 and response.json()["code"] == "invalid":
            assert response.json()["errors"], (method, url, body, response.content)

    run()


# --- Forms ------------------------------------------------------------------------------


@pytest.fixture
def form_arguments(initiative, gate, team, owner):
    """Keyword arguments form constructors take, by name."""
    return {
        "initiative": initiative,
        "person": owner,
        "gate": gate,
        "team": team,
        "frameworks": list(Framework.objects.all()),
        "teams": [team],
        "owners": [owner],
        "user": owner,
        "about_choices": (),
        "request": None,
    }


def _init_parameters(form_class) -> dict:
    """The named parameters of every __init__ down the MRO (a mixin's *args, **kwargs
    passes them through), up to Django's form bases."""
    parameters: dict = {}
    for cls in form_class.__mro__:
        if cls in (forms.BaseForm, forms.BaseModelForm) or "__init__" not in vars(cls):
            continue
        for name, parameter in inspect.signature(cls.__init__).parameters.items():
            parameters.setdefault(name, parameter)
    return parameters


def _build_form(form_class, data, arguments):
    kwargs = {}
    for name, parameter in _init_parameters(form_class).items():
        if name in ("self", "data", "args", "kwargs") or parameter.kind in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        ):
            continue
        if name in arguments:
            kwargs[name] = arguments[name]
        elif parameter.default is inspect.Parameter.empty:
            pytest.fail(f"{form_class.__name__} needs {name!r}: add it to form_arguments")
    return form_class(data=data, **kwargs)


@pytest.mark.parametrize("zone", TIME_ZONES)
@pytest.mark.parametrize("form_class", _forms(), ids=lambda cls: cls.__name__)
def test_every_form_names_the_field_it_refuses(form_class, zone, settings, form_arguments):
    settings.TIME_ZONE = zone
    names = list(_build_form(form_class, None, form_arguments).fields)

    @given(name=st.sampled_from(names), value=form_values)
    @hypothesis_settings
    def run(name, value):
        form = _build_form(form_class, {}, form_arguments)
        form = _build_form(form_class, {form.add_prefix(name): value}, form_arguments)
        field = form.fields[name]
        if form.is_valid() or name not in form.errors:
            cleaned = form.cleaned_data.get(name)
            _assert_field_bounds(field, cleaned)
        if form.is_valid() and isinstance(form, forms.ModelForm):
            with transaction.atomic():
                form.save()
                transaction.set_rollback(True)

    run()


def _assert_field_bounds(field, cleaned) -> None:
    if cleaned is None or isinstance(cleaned, bool):
        return
    if isinstance(cleaned, str) and isinstance(field, forms.CharField):
        assert field.max_length is not None and len(cleaned) <= field.max_length
    elif isinstance(cleaned, float | int | Decimal):
        assert abs(cleaned) <= max(FLOAT_LIMIT, 2**63)
    elif isinstance(cleaned, datetime.date):
        day = cleaned.date() if isinstance(cleaned, datetime.datetime) else cleaned
        assert EARLIEST_DATE <= day <= LATEST_DATE


@pytest.mark.parametrize("form_class", _forms(), ids=lambda cls: cls.__name__)
def test_every_form_field_is_bounded(form_class, form_arguments):
    """Every text field has a maximum length, every number a range, every date a range."""
    form = _build_form(form_class, None, form_arguments)
    for name, field in form.fields.items():
        if isinstance(field, forms.CharField):
            assert field.max_length is not None, f"{form_class.__name__}.{name}"
        if isinstance(field, forms.IntegerField):
            assert field.max_value is not None and field.min_value is not None, name
        if isinstance(field, forms.DateField | forms.DateTimeField):
            assert any("date_range" in repr(v) for v in field.validators), name


def _integer_choice_fields() -> list[tuple[type, str]]:
    """(serializer, field) for every choice among numbers that a JSON body may carry."""
    from rest_framework import serializers as drf

    found = []
    for serializer_class in _subclasses(StrictSerializer):
        for name, field in serializer_class().fields.items():
            if (
                isinstance(field, drf.ChoiceField)
                and not field.read_only
                and field.choices
                and all(isinstance(key, int) for key in field.choices)
            ):
                found.append((serializer_class, name))
    return sorted(found, key=lambda pair: (pair[0].__name__, pair[1]))


def test_discovery_finds_the_integer_choices():
    names = {(cls.__name__, name) for cls, name in _integer_choice_fields()}
    assert ("InitiativeCreateSerializer", "maturity_level") in names
    assert ("ClassificationProposeSerializer", "questionnaire_version") in names


@pytest.mark.parametrize(
    ("serializer_class", "name"),
    _integer_choice_fields(),
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_choice_among_numbers_takes_a_number_in_json_not_text(serializer_class, name):
    field = serializer_class().fields[name]
    choice = next(iter(field.choices))
    refused = serializer_class(data={name: str(choice)}, partial=True)
    assert not refused.is_valid()
    assert name in refused.errors
    accepted = serializer_class(data={name: choice}, partial=True)
    accepted.is_valid()
    assert name not in accepted.errors, accepted.errors


def _admin_model_forms() -> list[tuple[str, object]]:
    """(name, ModelAdmin or inline) for every form the admin builds from a model."""
    from django.contrib import admin

    found = []
    for model, model_admin in admin.site._registry.items():
        found.append((f"{model._meta.label}", model_admin))
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            found.append((f"{model._meta.label}.{inline.model._meta.model_name}", inline))
    return sorted(found, key=lambda pair: pair[0])


@pytest.mark.parametrize(
    "model_admin",
    [admin for _name, admin in _admin_model_forms()],
    ids=[n for n, _ in _admin_model_forms()],
)
def test_every_admin_form_field_is_bounded(model_admin, rf, admin_user):
    """The admin's own model forms (not only its sign-in and password forms) bound every
    field as the pages do: an obligation that applies from the year 1 is a typing mistake."""
    request = rf.get("/admin/")
    request.user = admin_user
    if hasattr(model_admin, "get_formset"):
        form_class = model_admin.get_formset(request).form
    else:
        form_class = model_admin.get_form(request)
    form = form_class()
    for name, field in form.fields.items():
        label = f"{form_class.__name__}.{name}"
        if isinstance(field, forms.CharField):
            assert field.max_length is not None, label
        if isinstance(field, forms.IntegerField):
            assert field.max_value is not None and field.min_value is not None, label
        if isinstance(field, forms.DateField | forms.DateTimeField):
            assert any("date_range" in repr(v) for v in field.validators), label
