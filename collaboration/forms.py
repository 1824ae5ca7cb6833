from __future__ import annotations

from django import forms

from collaboration.models import COMMENT_MAX_LENGTH
from core.forms import BoundedForm


class CommentForm(BoundedForm):
    body = forms.CharField(
        label="Comment",
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown works: **bold**, _italic_, lists, links, `code`. "
        "Type @ to mention somebody who can see this initiative.",
    )
    about = forms.ChoiceField(label="About", required=False)
    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    file = forms.FileField(label="Attach a file", required=False)

    def __init__(self, *args, about_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["about"].choices = [("", "The initiative"), *about_choices]


class CommentEditForm(BoundedForm):
    body = forms.CharField(
        label="Comment", max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    # When the text the form was opened with was written: a save from a form opened before
    # another save (another tab) is refused instead of overwriting the newer text.
    written = forms.CharField(max_length=40, widget=forms.HiddenInput)


class UploadForm(BoundedForm):
    file = forms.FileField(label="Evidence file")


class WatchForm(BoundedForm):
    """Start (1) or stop (0) watching; anything else is refused, not taken as "stop"."""

    watching = forms.TypedChoiceField(
        choices=[("1", "Watch"), ("0", "Stop watching")],
        coerce=lambda value: value == "1",
        error_messages={
            code: "Watching must be 1 (watch) or 0 (stop watching); nothing was changed."
            for code in ("required", "invalid_choice")
        },
    )
