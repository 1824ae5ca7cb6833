"""Who people are in Tollgate: portfolio roles (Django groups) and stage roles."""

from django.db import models


class PortfolioRole(models.TextChoices):
    """Each is a Django group; a user may be in several."""

    ADMIN = "portfolio_admin", "Portfolio admin"
    EXECUTIVE = "executive", "Executive"
    PRODUCT_MANAGER = "product_manager", "Product manager"
    CONTRIBUTOR = "contributor", "Contributor"
    VIEWER = "viewer", "Viewer"


class StageRole(models.TextChoices):
    """The role a person plays on an initiative's team."""

    ML_ENGINEER = "ml_engineer", "ML engineer"
    DATA_SCIENTIST = "data_scientist", "Data scientist"
    PRODUCT_MANAGER = "product_manager", "Product manager"
    SOFTWARE_ENGINEER = "software_engineer", "Software engineer"
    UX_DESIGNER = "ux_designer", "UX designer"
    DATA_ENGINEER = "data_engineer", "Data engineer"
    MLOPS_ENGINEER = "mlops_engineer", "MLOps engineer"
    PLATFORM_ENGINEER = "platform_engineer", "Platform engineer"
    DOMAIN_EXPERT = "domain_expert", "Domain expert"
    EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"


def portfolio_roles(user) -> set[str]:
    """The portfolio roles of a user, cached on the user object for the request."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_tollgate_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached.add(PortfolioRole.ADMIN)
        user._tollgate_roles = cached
    return cached
