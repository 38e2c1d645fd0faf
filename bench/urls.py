"""The site's URLs plus, for `make bench` only, a bare view that inserts one row: the same stack
(gunicorn, middleware, CSRF check, PostgreSQL) doing the least a signature could cost."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.views.decorators.http import require_POST


@require_POST
def insert_one(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (body) VALUES (%s)", [request.POST.get("email", "")])
    return HttpResponseRedirect("/")


urlpatterns = [
    path("bench/insert/", insert_one),
    path("", include("config.urls")),
]
