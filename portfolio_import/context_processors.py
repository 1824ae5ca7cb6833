from initiatives.policy import Action, can


def import_access(request) -> dict:
    """Whether the navigation offers the portfolio import."""
    user = getattr(request, "user", None)
    return {"can_import": bool(user is not None and can(user, Action.IMPORT_PORTFOLIO))}
