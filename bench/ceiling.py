"""The ceiling of the HTTP benchmarks: the same server, the same middleware, one `SELECT 1` and a tiny body.
Every endpoint's throughput is reported as a share of this. Mounted only under `ANSHIN_BENCH=1` (anshin/urls.py),
which the bench sets for its own gunicorn and production never does."""

from django.db import connection
from django.http import HttpResponse


def ceiling(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse(b"ok", content_type="text/plain")
