from django.urls import path

from petitions.web import api, campaigns, pages, signing

app_name = "petitions"

# The campaigns' public pages show their petitions, so they live in this app's web layer; they
# keep their own namespace, "campaigns:" (config/urls.py).
campaign_urlpatterns = [
    path("", campaigns.home, name="home"),
    path("campaigns/<slug:slug>/", campaigns.detail, name="detail"),
    path("privacy/", campaigns.privacy, name="privacy"),
]

urlpatterns = [
    path("petitions/<slug:slug>/", pages.detail, name="detail"),
    path("petitions.json", api.petitions_json, name="list_json"),
    path("api/openapi.json", api.openapi_json, name="openapi"),
    path("petitions/<slug:slug>.json", api.detail_json, name="detail_json"),
    path("petitions/<slug:slug>/count.json", api.count_json, name="count_json"),
    path("petitions/<slug:slug>/sign/", signing.sign, name="sign"),
    path("petitions/<slug:slug>/preview/", pages.preview, name="preview"),
    path("petitions/<slug:slug>/signed/", signing.signed, name="signed"),
    path("petitions/<slug:slug>/thanks/", signing.thanks, name="thanks"),
    path("petitions/<slug:slug>/embed/", pages.embed, name="embed"),
    path("petitions/<slug:slug>/paper-sheet.pdf", pages.paper_sheet, name="paper_sheet"),
    path("confirm/<uuid:uuid>/<str:token>/", signing.confirm, name="confirm"),
]
