from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from gov21.core.principal import Principal
from gov21.participation import services
from gov21.participation.models import Process
from gov21.participation.services import ProjectFacts, QuestionFacts

OFFICER = Principal(name="dgo.officer", kind="staff", roles=frozenset({"administrator"}))
# An officer of the Ministry of Public Works, which runs the processes made here.
OFFICER_PWD = Principal(
    name="pwd.officer", kind="staff", roles=frozenset({"registrar"}), grants=frozenset({("registrar", "PWD")})
)
MODERATOR = Principal(name="dgo.moderator", kind="staff", roles=frozenset({"clerk"}))


def process(kind: str, *, slug: str = "p", parish: str = "", threshold: int = 0, closed: bool = False) -> Process:
    now = timezone.now()
    budget = (
        {
            "budget_cents": 100_000,
            "projects": [
                ProjectFacts("park", "A park", 60_000),
                ProjectFacts("lights", "Street lights", 30_000),
                ProjectFacts("clinic", "A clinic", 50_000),
            ],
        }
        if kind == "budget"
        else {}
    )
    made = services.process_create(
        slug=slug,
        kind=kind,
        title=f"A {kind}",
        agency="PWD",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        parish=parish,
        threshold=threshold,
        actor=OFFICER,
        **budget,  # type: ignore[arg-type]
    )
    return made


def proposals(*, threshold: int = 2, support_days: int = 90, slug: str = "p") -> Process:
    """A process of citizens' proposals run by Public Works, open for a year."""
    now = timezone.now()
    return services.process_create(
        slug=slug,
        kind="proposals",
        title="Ideas for the town",
        agency="PWD",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=365),
        threshold=threshold,
        support_days=support_days,
        actor=OFFICER,
    )


def close(p: Process) -> None:
    Process.objects.filter(pk=p.pk).update(closes_at=timezone.now() - timedelta(seconds=1))


def survey(*, slug: str = "s", parish: str = "") -> Process:
    """A survey of four questions: a single choice, a multiple choice, a scale and an optional free text."""
    now = timezone.now()
    return services.process_create(
        slug=slug,
        kind="survey",
        title="A survey",
        agency="PWD",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        parish=parish,
        questions=[
            QuestionFacts("single", "How do you come to town?", (("bus", "By bus"), ("car", "By car"))),
            QuestionFacts(
                "multiple", "What should we build?", (("park", "A park"), ("pool", "A pool"), ("road", "A road"))
            ),
            QuestionFacts("scale", "How happy are you with the buses?"),
            QuestionFacts("text", "Anything else?", required=False),
        ],
        actor=OFFICER,
    )
