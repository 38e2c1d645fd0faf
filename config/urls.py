from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from accounts.forms import CeleryPasswordResetForm
from config.language import choose_language
from petitions import urls as petition_urls

# Staff password reset (the admin's login page links it once "admin_password_reset" exists).
password_reset = [
    path(
        "admin/password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=CeleryPasswordResetForm,
            success_url=reverse_lazy("password_reset_done"),
            extra_context={"site_header": admin.site.site_header},
        ),
        name="admin_password_reset",
    ),
    path(
        "admin/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "admin/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "admin/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    *password_reset,
    path("admin/", admin.site.urls),
    path("language/<str:code>/", choose_language, name="choose_language"),
]
# The public site in each language: English without a prefix (its URLs from before translations
# hold), the others under their code (config/language.py).
urlpatterns += i18n_patterns(
    path("", include("petitions.urls")),
    path("", include((petition_urls.campaign_urlpatterns, "campaigns"))),
    prefix_default_language=False,
)
