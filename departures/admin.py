"""Deactivating somebody in the admin leads to their departures page."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect

from core.formatting import counted
from departures.selectors import holdings_of

User = get_user_model()
_registered = admin.site._registry.get(User)

if _registered is not None:

    class DepartingUserAdmin(type(_registered)):
        def response_change(self, request, obj):
            held = holdings_of(obj) if not obj.is_active else None
            if held is not None and (held.count or held.teams_led):
                messages.warning(
                    request,
                    f"{obj} is deactivated but still holds {counted(held.count, 'thing')}; "
                    "hand them to a successor here.",
                )
                return redirect("departures:person", pk=obj.pk)
            return super().response_change(request, obj)

    actions = _registered.actions
    admin.site.unregister(User)
    admin.site.register(User, DepartingUserAdmin)
    admin.site._registry[User].actions = actions
