"""The compliance officer is a portfolio role like the others: its group exists with theirs.

The compliance app's catalogue migration created the group already where it ran; this makes
the role's group a fact of the teams app, which owns the portfolio roles.
"""

from django.db import migrations


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="compliance")


class Migration(migrations.Migration):
    dependencies = [("teams", "0002_portfolio_groups")]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
