"""The Content-Security-Policy and Permissions-Policy headers, on every response.

The policy is django-csp's, from settings.CONTENT_SECURITY_POLICY (and a view's own, set with
django-csp's decorators: the embed card, which any site may frame). django-csp's middleware
builds the header string for every response: 60-90 µs (timeit on the 2-core development
machine), 5-8% of a sign POST's CPU. Here each distinct policy is built once per process and set
as a fixed string, with the Permissions-Policy: 4-7 µs for both, since the petition page and the
sign POST are the hot path. Nonces are not supported: nothing on the site is inline, which is
the point of the policy.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import HEADER
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

PERMISSIONS_HEADER = "Permissions-Policy"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.policies: dict[str, str] = {}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault(PERMISSIONS_HEADER, settings.PERMISSIONS_POLICY)
        if HEADER in response.headers or getattr(response, "_csp_exempt", False):
            return response
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # Django's debug pages style themselves inline (as django-csp does)
        response.headers[HEADER] = self.policy(
            getattr(response, "_csp_config", None),
            getattr(response, "_csp_update", None),
            getattr(response, "_csp_replace", None),
        )
        return response

    def policy(self, config: dict | None, update: dict | None, replace: dict | None) -> str:
        key = repr((config, update, replace))
        policy = self.policies.get(key)
        if policy is None:
            policy = self.policies[key] = build_policy(config, update, replace)
        return policy
