"""Harness-only middleware: the number of SQL statements a request ran, in a response header.

Lets the harness count queries over HTTP against gunicorn. Statements run while a
streaming response is being sent are not counted (the header is gone by then).
"""

from __future__ import annotations

from django.db import connection

HEADER = "X-Bench-Queries"


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response[HEADER] = str(count)
        return response
