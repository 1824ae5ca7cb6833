import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser


class LimitedJSONParser(JSONParser):
    """JSON with the same size limit Django applies to form bodies.

    DRF reads the raw stream, which bypasses DATA_UPLOAD_MAX_MEMORY_SIZE, so
    the limit is checked here (declared length and bytes actually read).
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
        return super().parse(stream, media_type, parser_context)
