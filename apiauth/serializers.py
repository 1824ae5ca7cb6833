"""Serializer building blocks shared by every app's API."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (400), instead of ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


def user_field(**kwargs) -> serializers.SlugRelatedField:
    """A user named by username in request bodies."""
    return serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True), **kwargs
    )


class ErrorSerializer(serializers.Serializer):
    """The shape of every 4xx response."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid.")
    message = serializers.CharField(help_text="A sentence for people.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Problems per field (dotted paths for nested rows).",
    )
