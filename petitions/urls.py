from django.urls import path

from . import views

app_name = "petitions"

urlpatterns = [
    path("petitions/<slug:slug>/", views.detail, name="detail"),
    path("petitions/<slug:slug>.json", views.detail_json, name="detail_json"),
    path("petitions/<slug:slug>/count.json", views.count_json, name="count_json"),
    path("petitions/<slug:slug>/sign/", views.sign, name="sign"),
    path("petitions/<slug:slug>/signed/", views.signed, name="signed"),
    path("petitions/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("petitions/<slug:slug>/paper-sheet.pdf", views.paper_sheet, name="paper_sheet"),
    path("confirm/<uuid:uuid>/<str:token>/", views.confirm, name="confirm"),
]
