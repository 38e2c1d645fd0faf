from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/<slug:slug>/", views.detail, name="detail"),
    path("privacy/", views.privacy, name="privacy"),
]
