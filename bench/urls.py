"""The site's URLs plus, for `make bench` only, a bare view that inserts one row: the same stack
(gunicorn, middleware, CSRF check, PostgreSQL) doing the least a signature could cost. The site's
own patterns are added as they are, not through include(), so that resolving a site URL costs
what it costs in production, not one level more."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as site_urlpatterns


@require_POST
def insert_one(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (body) VALUES (%s)", [request.POST.get("email", "")])
    return HttpResponseRedirect("/")


urlpatterns = [
    path("bench/insert/", insert_one),
    *site_urlpatterns,
]
