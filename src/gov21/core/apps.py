from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gov21.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from gov21.core import checks  # noqa: F401 - registers the deploy checks

        # A migration may have rebuilt a table (SQLite drops its triggers): look for each index again.
        post_migrate.connect(_spatial_index_forget, dispatch_uid="gov21.core.spatial_index_forget")


def _spatial_index_forget(**_kwargs: object) -> None:
    from gov21.core.spatial import spatial_index_forget

    spatial_index_forget()
