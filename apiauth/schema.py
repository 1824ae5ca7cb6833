"""OpenAPI: the error responses every operation can return, added in one place."""

from __future__ import annotations

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
