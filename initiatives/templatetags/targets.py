"""{% load targets %}: {{ key|metric_label }} names a production-bar metric as people say it,
also where only the key is at hand (a decision's snapshot, the brief)."""

from django import template

from initiatives.models import Target

register = template.Library()


@register.filter
def metric_label(metric_key: str) -> str:
    return Target.label_for(metric_key or "")
