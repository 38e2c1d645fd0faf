from django.urls import path

from . import api, views

app_name = "petitions"

urlpatterns = [
    path("petitions/<slug:slug>/", views.detail, name="detail"),
    path("petitions.json", api.petitions_json, name="list_json"),
    path("api/openapi.json", api.openapi_json, name="openapi"),
    path("petitions/<slug:slug>.json", api.detail_json, name="detail_json"),
    path("petitions/<slug:slug>/count.json", api.count_json, name="count_json"),
    path("petitions/<slug:slug>/sign/", views.sign, name="sign"),
    path("petitions/<slug:slug>/preview/", views.preview, name="preview"),
    path("petitions/<slug:slug>/signed/", views.signed, name="signed"),
    path("petitions/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("petitions/<slug:slug>/embed/", views.embed, name="embed"),
    path("petitions/<slug:slug>/paper-sheet.pdf", views.paper_sheet, name="paper_sheet"),
    path("confirm/<uuid:uuid>/<str:token>/", views.confirm, name="confirm"),
]
