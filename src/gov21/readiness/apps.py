from django.apps import AppConfig

# Who may do what in the readiness assessment: answer an agency's self-assessment, review and sign it
# off, open a round of the skills survey.
_ASSESS = frozenset({"readiness.assess"})
_REVIEW = frozenset({"readiness.assess", "readiness.review"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "clerk": _ASSESS,
    "registrar": _ASSESS,
    "case_officer": _ASSESS,
    "supervisor": _REVIEW,
    "administrator": _REVIEW,
}


class ReadinessConfig(AppConfig):
    name = "gov21.readiness"
    label = "readiness"
    verbose_name = "Readiness and benchmarks"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.core.datafiles import backup_directory_register
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.readiness import exchange_routes  # noqa: F401  (the hub's service registers its handler)
        from gov21.readiness.assessments import EVIDENCE_DIRECTORY

        permissions_grant(app=self.label, grants=PERMISSIONS)
        backup_directory_register(EVIDENCE_DIRECTORY)
        office_entrance_register(
            url_name="readiness-office:assessments", label=gettext_lazy("Readiness"), permission="readiness.assess"
        )
