"""The admin site: Django's, with the second factor (accounts/two_factor.py) between the password
and everything else."""

from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts.roles import verified


class StaffAdminSite(admin.AdminSite):
    site_header = "Safe Passage staff"
    site_title = "Safe Passage staff"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and verified(request.user)

    def login(self, request, extra_context=None):
        """After the password, the second factor: a staff member who has given the one but not
        the other is sent on to it rather than shown the login form again."""
        user = request.user
        if request.method == "GET" and user.is_authenticated and user.is_active and user.is_staff:
            if not verified(user):
                target = reverse("admin:two_factor")
                if next_url := request.GET.get("next"):
                    target += "?" + urlencode({"next": next_url})
                return redirect(target)
        return super().login(request, extra_context)

    def admin_view(self, view, cacheable=False):
        """Every admin page needs the second factor, except logging out: one who stopped after
        the password must be able to leave too."""
        if view == self.logout:
            return never_cache(csrf_protect(view))
        return super().admin_view(view, cacheable)

    def get_urls(self):
        from accounts import two_factor  # its models need the apps loaded

        return [
            path(
                "two-factor/",
                lambda request: two_factor.second_factor(request, self),
                name="two_factor",
            ),
            *super().get_urls(),
        ]
