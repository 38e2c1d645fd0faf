"""The admin site: Django's, with the second factor (accounts/two_factor.py) between the password
and everything else, lists that take field lookups from their URL only through their own
filters, and "view on site" only for objects the user may see."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts.roles import verified

# The query-string parameters each kind of Django list filter uses, after the field's path.
FILTER_SUFFIXES = ("", "__exact", "__isnull", "__gte", "__lt", "__isempty")
DATE_HIERARCHY_SUFFIXES = ("__year", "__month", "__day")


class FilterLookupsOnly:
    """Django's change lists take any lookup on a model's own fields from the URL
    (?email__regex=^a… answers "1 result" or "0 results"), which recovers a hidden field a
    character at a time. Here a list takes only the parameters of its own filters and date
    hierarchy; anything else is refused with 400 before a query is made. (Searching is
    get_search_fields/get_search_results' business.) StaffAdminSite gives every registered
    admin this, Django's and other packages' included."""

    def lookup_allowed(self, lookup, value, request) -> bool:
        return lookup in self.filter_parameters(request)

    def filter_parameters(self, request) -> set[str]:
        allowed: set[str] = set()
        if self.date_hierarchy:
            allowed |= {self.date_hierarchy + suffix for suffix in DATE_HIERARCHY_SUFFIXES}
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                allowed.add(item.parameter_name)
                continue
            field_path = item[0] if isinstance(item, (tuple, list)) else item
            if not isinstance(field_path, str):
                field_path = field_path.name
            field = get_fields_from_path(self.model, field_path)[-1]
            suffixes = FILTER_SUFFIXES
            if field.is_relation:
                suffixes += (f"__{field.target_field.name}__exact",)
            allowed |= {field_path + suffix for suffix in suffixes}
        return allowed


class StaffAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Safe Passage staff")
    site_title = gettext_lazy("Safe Passage staff")

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, FilterLookupsOnly):
            admin_class = type(admin_class)(
                admin_class.__name__,
                (FilterLookupsOnly, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

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
            # Before Django's own pattern of the same name and path, which it replaces.
            path(
                "r/<int:content_type_id>/<path:object_id>/",
                self.admin_view(self.view_on_site),
                name="view_on_site",
            ),
            *super().get_urls(),
        ]

    def view_on_site(self, request, content_type_id: int, object_id: str):
        """Django's "view on site" redirect, for objects the user may see in the admin: ids
        can be counted up, and another organisation's draft must not even be found."""
        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except ContentType.DoesNotExist:
            raise Http404("No such object.") from None
        model_admin = self._registry.get(model)
        obj = model_admin.get_object(request, object_id) if model_admin else None
        if obj is None or not model_admin.has_view_permission(request, obj):
            raise Http404("No such object.")
        return shortcut(request, content_type_id, object_id)
