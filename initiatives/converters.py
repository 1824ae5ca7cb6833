"""URL converter for initiative keys, so only well-formed keys (AI-001) reach a query."""

from django.urls import register_converter


class InitiativeKeyConverter:
    regex = r"[A-Z]{1,8}-[0-9]{1,12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(InitiativeKeyConverter, "initiative_key")
