"""Authentication backends: login throttling (django-axes) and optional OpenID Connect."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check, for every authenticate() that comes with a request.

    Every login form (ours, the admin's, OIDC) passes the request. Only code
    without one, such as the test client's `login()`, skips the check, instead
    of failing as Axes' own backend does: there is no client address to count.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE), with 429 Too Many Requests."""
    from django.conf import settings
    from django.shortcuts import render

    cool_off = settings.AXES_COOLOFF_TIME
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    return render(
        request,
        "registration/lockout.html",
        {"cooloff_minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
