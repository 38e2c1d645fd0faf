from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Safe Passage staff"
admin.site.site_title = "Safe Passage staff"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("petitions.urls")),
    path("", include("campaigns.urls")),
]
