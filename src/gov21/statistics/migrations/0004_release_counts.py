from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("statistics", "0003_application_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="tablerelease",
            name="counts",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="TableCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("dataset", models.CharField(max_length=100, unique=True)),
                ("year", models.PositiveIntegerField()),
                ("counted_at", models.DateTimeField()),
                ("shape", models.JSONField()),
                ("counts", models.JSONField()),
            ],
        ),
    ]
