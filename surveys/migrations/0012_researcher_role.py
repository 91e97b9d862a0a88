"""The researcher's role: two permissions on Study and a Researchers group that holds them.

Every account that exists when this runs joins the group, so nobody loses what they could do;
accounts made afterwards only read until someone adds them (dashboard/access.py).
"""

from django.db import migrations

RESEARCHERS = "Researchers"
PERMISSIONS = {
    "run_experiments": (
        "Can import music, train, generate and render, and create, change, open and close studies"
    ),
    "view_participants": "Can see participants' Prolific ids",
}


def create_researchers(apps, schema_editor):
    """The group, its permissions (made here: Django adds them only after every migration) and
    every existing account as a member."""
    content_type, _ = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="surveys", model="study"
    )
    permission_model = apps.get_model("auth", "Permission")
    permissions = [
        permission_model.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSIONS.items()
    ]
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=RESEARCHERS)
    group.permissions.add(*permissions)
    group.user_set.add(*apps.get_model("auth", "User").objects.all())


def remove_researchers(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=RESEARCHERS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0011_remove_participant_last_seen_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="study",
            options={
                "ordering": ["-created"],
                "permissions": list(PERMISSIONS.items()),
                "verbose_name_plural": "studies",
            },
        ),
        migrations.RunPython(create_researchers, remove_researchers),
    ]
