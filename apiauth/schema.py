"""OpenAPI: the error responses every operation can return, added in one place."""

from __future__ import annotations

import re

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "The shape of every 4xx response.",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "errors"],
}
DESCRIPTIONS = {
    "400": "Invalid input (bad field, unknown field, invalid choice, malformed JSON).",
    "401": "Missing, unknown, expired or revoked credentials.",
    "403": "Authenticated but not allowed (including read-only tokens writing).",
    "404": "Not found, or not visible to you.",
    "409": "Conflict with the current state.",
    "412": "If-Match does not match the current ETag.",
    "413": "Request body larger than 1 MB.",
    "415": "Unsupported Content-Type; send application/json.",
    "422": "Idempotency-Key reused with a different request.",
    "429": "Too many requests; see Retry-After.",
}
UNSAFE = {"post", "put", "patch", "delete"}
# Inputs take dates from 1900 to 2200 (core.bounds); the pattern says so for the year.
DATE_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-"


def _bound_dates(schema: dict) -> None:
    if schema.get("type") == "string" and schema.get("format") in ("date", "date-time"):
        schema.setdefault("pattern", DATE_PATTERN)
        schema.setdefault("description", "Between 1900-01-01 and 2200-12-31.")


_INTEGER_DIGITS = re.compile(r"\\d\{0,(\d+)\}")


def _decimal_takes_numbers(schema: dict) -> None:
    """A decimal in a request body may be sent as text or as a JSON number
    (StrictSerializer takes either): say both, not text alone, or a client that sends
    123.45 is told it broke the schema and a checker expects it refused."""
    if schema.get("type") != "string" or schema.get("format") != "decimal":
        return
    text = {key: schema.pop(key) for key in ("type", "format", "pattern") if key in schema}
    number: dict = {"type": "number"}
    if found := _INTEGER_DIGITS.search(text.get("pattern", "")):
        limit = 10 ** int(found.group(1))
        number.update(exclusiveMinimum=True, minimum=-limit, exclusiveMaximum=True, maximum=limit)
    schema["anyOf"] = [text, number]


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the error shape on every operation.

    Request bodies are read by StrictSerializer subclasses, which refuse fields they do
    not know: the schema says so with `additionalProperties: false`.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
            for property_schema in component.get("properties", {}).values():
                _bound_dates(property_schema)
                _decimal_takes_numbers(property_schema)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                if parameter["in"] != "query":
                    continue
                # An empty query parameter is refused (NoEmptyParameters).
                if schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
                # Ids and page numbers start at 1.
                if schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
                _bound_dates(schema)
            # 404 also covers an out-of-range ?page= on lists.
            codes = ["400", "401", "403", "404", "429"]
            if method in UNSAFE:
                codes += ["409", "413", "415"]
            if method in {"put", "patch"}:
                codes.append("412")
            if method == "post":
                codes.append("422")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ERROR_REF}},
                    },
                )
    return result


# Examples -------------------------------------------------------------------------------
# Every request body and JSON response carries an example, built here from the schema the
# serializers produced, so a new operation gets one without anybody writing it. A field's
# name picks a realistic value where the type alone would say little.
EXAMPLE_FORMATS = {
    "date": "2026-03-31",
    "date-time": "2026-03-31T09:30:00Z",
    "uri": "https://tollgate.example.com/api/v1/initiatives/?page=2",
    "email": "priya.nair@example.com",
    "decimal": "1250.00",
    "binary": "(file contents)",
    "uuid": "3f0c9a52-2d1e-4b7a-9a61-6f1d2c8e4b10",
}
EXAMPLE_NAMES = {
    "key": "AI-007",
    "name": "Invoice triage assistant",
    "title": "Invoice triage assistant",
    # People, teams and frameworks of the demo portfolio (`make run`), so an example sent
    # as it is against the demo works.
    "username": "pm",
    "owner": "pm",
    "sponsor": "exec",
    "gatekeeper": "exec2",
    "user": "contrib",
    "team": "customer-operations",
    "slug": "customer-operations",
    "framework": "ai-maturity",
    "stage": "mvp",
    "tags": "customer-facing",
    "metric_key": "accuracy",
    "email": "priya.nair@example.com",
    "body": "Looks ready for the gate.",
    "note": "Checked with the data owner.",
    "comment": "Looks ready for the gate.",
    "code": "invalid",
    "message": "This field is required.",
    "summary": "Sorts incoming invoices by supplier and urgency.",
    "problem": "Invoices wait three days for a first look.",
    "description": "Precision on the weekly labelled sample.",
    # Within a component, by "Component.field".
    "Team.name": "Customer Operations",
    "TeamRef.name": "Customer Operations",
    "UserRef.name": "Priya Nair",
    "StageRef.key": "mvp",
    "StageRef.name": "MVP",
    "ObligationStatus.code": "art9-risk-management",
    "ObligationStatus.article": "Art. 9",
    "ObligationStatus.article_url": "https://eur-lex.europa.eu/eli/reg/2024/1689/oj#art_9",
    "ImportReport.summary": "Imported: 3 rows created, 0 updated, 0 unchanged.",
}
ERROR_CODES = {
    "400": ("invalid", {"name": ["This field is required."]}),
    "401": ("not_authenticated", {}),
    "403": ("permission_denied", {}),
    "404": ("not_found", {}),
    "409": ("conflict", {}),
    "412": ("precondition_failed", {}),
    "413": ("payload_too_large", {}),
    "415": ("unsupported_media_type", {}),
    "422": ("idempotency_key_reused", {}),
    "429": ("throttled", {}),
}
_MAX_DEPTH = 24


def _fits(value: str, schema: dict) -> bool:
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 10**9):
        return False
    pattern = schema.get("pattern")
    return pattern is None or re.search(pattern, value) is not None


def _string_example(schema: dict, name: str, within: str) -> str:
    candidates = [
        EXAMPLE_FORMATS.get(schema.get("format", "")),
        EXAMPLE_NAMES.get(f"{within}.{name}"),
        EXAMPLE_NAMES.get(name),
    ]
    if schema.get("pattern") == DATE_PATTERN:
        candidates.append(EXAMPLE_FORMATS["date"])
    candidates += [name.replace("_", "-") or "text", "1", "text"]
    for candidate in candidates:
        if candidate is not None and _fits(candidate, schema):
            return candidate
    # The shortest text the bounds allow.
    return "x" * max(schema.get("minLength", 1), 1)


def _number_example(schema: dict, default):
    value = default
    if "minimum" in schema and value < schema["minimum"]:
        value = schema["minimum"]
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"]
    return value


def example_of(schema: dict, components: dict, name: str = "", depth: int = 0, within: str = ""):
    """A value that validates against `schema` (OpenAPI 3.0), with `$ref`s resolved."""
    if depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        component = schema["$ref"].rsplit("/", 1)[-1]
        return example_of(components[component], components, name, depth + 1, component)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v not in (None, "")), schema["enum"][0])
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            value = example_of(part, components, name, depth + 1)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return example_of(schema[key][0], components, name, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        example = {
            prop: example_of(prop_schema, components, prop, depth + 1, within)
            for prop, prop_schema in properties.items()
        }
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict):
            example = {name or "field": example_of(extra, components, "message", depth + 1)}
        return example
    if kind == "array":
        item = example_of(schema.get("items", {}), components, name, depth + 1)
        return [item] * max(schema.get("minItems", 1), 1)
    if kind == "string":
        return _string_example(schema, name, within)
    if kind == "integer":
        return _number_example(schema, 1)
    if kind == "number":
        return _number_example(schema, 0.92)
    if kind == "boolean":
        return True
    if schema.get("nullable"):
        return None
    return {}


def _set_example(media: dict, value) -> None:
    if "example" not in media and "examples" not in media:
        media["example"] = value


def add_examples(result, generator, request, public):
    """drf-spectacular postprocessing hook: an example on every request body and JSON answer."""
    components = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    _set_example(media, example_of(media["schema"], components))
            for code, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    if code in ERROR_CODES and media.get("schema") == ERROR_REF:
                        error_code, errors = ERROR_CODES[code]
                        message = next(iter(errors.values()), [DESCRIPTIONS[code]])[0]
                        _set_example(
                            media, {"code": error_code, "message": message, "errors": errors}
                        )
                    elif "schema" in media:
                        _set_example(media, example_of(media["schema"], components))
    return result
