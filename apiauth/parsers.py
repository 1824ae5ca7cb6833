import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request body Tollgate takes nests deeper than a few levels; deeper ones are refused
# before any code walks them (a recursive walk of thousands of levels overflows the stack).
MAX_JSON_DEPTH = 32


def json_depth(value) -> int:
    """How deeply arrays and objects nest in a parsed JSON value, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class LimitedJSONParser(JSONParser):
    """JSON with the same size limit Django applies to form bodies, and a nesting limit.

    DRF reads the raw stream, which bypasses DATA_UPLOAD_MAX_MEMORY_SIZE, so
    the limit is checked here (declared length and bytes actually read). Any body the
    decoder cannot take, however it fails, is a 400 `malformed_request`.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            request = (parser_context or {}).get("request")
            declared = 0
            if request is not None:
                try:
                    declared = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    declared = 0
            if declared > limit:
                raise RequestDataTooBig("Request body exceeded the size limit.")
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("Request body exceeded the size limit.")
            stream = io.BytesIO(body)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body nests too deeply.") from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(
                f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels."
            )
        return data
