"""What ``gov21 up`` does: migrate, create the demo nation on an empty data directory, bootstrap the
exchange, the one-stop shop and the portal, and supervise the web server and the background
workers until it is stopped. It wires every app together, so it lives above them all."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper
from django.core.management.color import Style
from django.utils.translation import gettext_noop

from gov21.core import config
from gov21.core.capacity import gunicorn_capacity, web_environment
from gov21.core.dbstats import planner_statistics_missing, planner_statistics_refresh
from gov21.core.http import gunicorn_forwarding
from gov21.core.logs import gunicorn_logging
from gov21.core.monitoring import multiprocess_prepare
from gov21.core.principal import Principal, PrincipalKind
from gov21.exchange.contracts import exchange_bootstrap
from gov21.identity.contracts import account_status, activation_code_issue, staff_create
from gov21.imagery.selectors import collection_get
from gov21.onestop.contracts import demo_driver, services_bootstrap
from gov21.portal.rp import bootstrap as portal_bootstrap
from gov21.readiness.contracts import egdi_shipped_load
from gov21.registry.contracts import person_sample_adult, population_count

# (username, roles, agency): the registry's staff, and a case officer and a supervisor of the
# agencies whose services the one-stop shop runs.
DEMO_STAFF = (
    ("registrar", ["registrar"], "civil-registry"),
    ("clerk", ["clerk"], "civil-registry"),
    ("admin", ["administrator"], "civil-registry"),
    ("licensing", ["case_officer"], "licensing"),
    ("benefits", ["case_officer"], "benefits"),
    ("business", ["case_officer"], "business-register"),
    ("supervisor", ["supervisor"], "licensing"),
)


def demo_credentials(data_dir: Path) -> list[tuple[str, str, str]]:
    """Demo sign-ins, with passwords generated on first run and kept in the data directory."""
    path = data_dir / "demo-sign-ins.txt"
    if path.exists():
        fields = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
        return [(f[0], f[1], f[2]) for f in fields]
    rows: list[tuple[str, str, str]] = []
    for username, roles, agency in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        staff_create(username=username, password=password, roles=roles, agency=agency)
        rows.append((username, password, ",".join(roles)))
    path.write_text("".join(f"{u}\t{p}\t{r}\n" for u, p, r in rows), encoding="utf-8")
    path.chmod(0o600)
    return rows


# The officer who hands out the demo citizen's activation code. Its name is written into the
# signed logs in English and shown to the citizen in their language ("Who used my data").
DEMO_OFFICER = Principal(
    name=gettext_noop("Civil registry counter (demo)"), kind=PrincipalKind.STAFF, roles=frozenset({"registrar"})
)


def demo_citizen(data_dir: Path) -> tuple[str, str] | None:
    """A living adult of the demo nation with an activation code, as if handed over at a counter."""
    path = data_dir / "demo-citizen.txt"
    uin = path.read_text(encoding="utf-8").split("\t")[0].strip() if path.exists() else person_sample_adult()
    if not uin:
        return None
    if account_status(uin=uin) == "active":
        return (uin, "(already activated)")
    code = activation_code_issue(uin=uin, officer=DEMO_OFFICER)
    path.write_text(f"{uin}\t{code}\n", encoding="utf-8")
    path.chmod(0o600)
    return uin, code


@dataclass(frozen=True, slots=True)
class Demo:
    """The demo sign-ins (username, password, roles) and demo citizen (UIN, activation code) to show."""

    sign_ins: list[tuple[str, str, str]]
    citizen: tuple[str, str] | None


def platform_prepare(*, people: int | None, seed: int, demo: bool, stdout: OutputWrapper) -> Demo:
    """Migrate, create the demo nation if the registry is empty, bootstrap every app, and (unless
    ``demo`` is false, for a real or restored node) make the demo sign-ins and citizen."""
    stdout.write(f"Data directory: {settings.DATA_DIR}")
    call_command("migrate", interactive=False, verbosity=0)
    if population_count() == 0:
        people = people or config.DEMO_PEOPLE.read()
        stdout.write(f"Generating the demo nation ({people:,} people)…")
        call_command("seed", people=people, seed=seed)
    call_command("uin_pool", verbosity=0)
    if planner_statistics_missing():  # a database loaded or restored without them (decision 0073)
        stdout.write(f"Planner statistics gathered in {planner_statistics_refresh():.2f} s.")
    exchange_bootstrap()  # the identity provider reads the registry through the exchange
    services_bootstrap()
    portal_bootstrap()  # the portal's redirect URIs, from GOV21_BASE_URL
    # The UN's published e-government figures, so /readiness/ ranks the Caribbean from the start.
    if years := egdi_shipped_load():
        stdout.write("Loaded the UN E-Government Survey of " + ", ".join(str(y) for y in years) + ".")
    if not demo:
        return Demo(sign_ins=[], citizen=None)
    if collection_get("demo-scenes") is None:  # the collection `gov21 demo_imagery` fills
        # The demo islands before and after a hurricane, so the map and /stac/ show imagery offline:
        # at 150 m pixels, 45 s and 325 MB once (30 m took 2.5 min and 985 MB on a loaded machine).
        stdout.write("Drawing the demo imagery…")
        try:
            call_command("demo_imagery", pixel=150.0, stdout=stdout)
        except CommandError as error:  # the platform serves without it; `gov21 demo_imagery` tries again
            stdout.write(f"The demo imagery was not made: {error}")
    sign_ins = demo_credentials(settings.DATA_DIR)
    citizen = demo_citizen(settings.DATA_DIR)
    if citizen is not None:
        demo_driver(uin=citizen[0])
    return Demo(sign_ins=sign_ins, citizen=citizen)


def platform_serve(
    *, host: str, port: int, workers: int | None, demo: Demo, stdout: OutputWrapper, style: Style
) -> None:
    """Run the web server and the background workers until Ctrl+C, SIGTERM or one of them stops."""
    workers = workers or config.WEB_WORKERS.read()
    env = config.child_environment(DJANGO_SETTINGS_MODULE="gov21.settings", GOV21_DATA_DIR=str(settings.DATA_DIR))
    env.update(multiprocess_prepare())  # every process below counts into one set of metrics
    shown_host = f"[{host}]" if ":" in host else host
    # The portal reaches the identity provider at the public address; on a laptop that is this server.
    env.setdefault("GOV21_BASE_URL", f"http://{shown_host}:{port}")
    bindir = Path(sys.executable).parent
    web = subprocess.Popen(  # noqa: S603
        [
            str(bindir / "gunicorn"),
            "gov21.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            *gunicorn_capacity(),
            *gunicorn_logging(access=True),
            *gunicorn_forwarding(),
        ],
        env=web_environment(env),
    )
    worker = subprocess.Popen([sys.executable, "-m", "gov21.cli", "db_worker", "--interval", "1"], env=env)
    # Published events go to push subscribers at once (a task after commit); this retries the rest.
    deliver = subprocess.Popen([sys.executable, "-m", "gov21.cli", "exchange", "deliver", "--every", "5"], env=env)
    notify = subprocess.Popen([sys.executable, "-m", "gov21.cli", "notify", "--every", "5"], env=env)
    # Harvest sources whose time has come (each has its own frequency); a minute is fine enough.
    harvest = subprocess.Popen([sys.executable, "-m", "gov21.cli", "opendata", "harvest", "--every", "60"], env=env)
    # After a register's change, the tiles maps had asked for are built again for the new version.
    tiles = subprocess.Popen([sys.executable, "-m", "gov21.cli", "tiles", "follow", "--every", "2"], env=env)
    helpers = [worker, deliver, notify, harvest, tiles]
    measure_every = config.READINESS_MEASURE_EVERY_SECONDS.read()
    if measure_every > 0:
        # The live readiness indicators: a round now, then one each period, kept as dated rows.
        helpers.append(
            subprocess.Popen(  # noqa: S603 - our own command; the number is a setting
                [sys.executable, "-m", "gov21.cli", "readiness", "measure", "--every", str(measure_every)], env=env
            )
        )
    if settings.GOV21_BACKUP_TARGETS:
        # SQLite: every minute the changed chunks go to every configured target. PostgreSQL: a whole
        # pg_dump every hour; between dumps its replica and WAL archive keep the copies (decision 0009).
        on_sqlite = str(settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3")
        every = str(config.BACKUP_EVERY_SECONDS.read()) if on_sqlite else "3600"
        helpers.append(
            subprocess.Popen(  # noqa: S603 - our own command; the numbers are settings
                [
                    *(sys.executable, "-m", "gov21.cli", "backup", "--every", every),
                    *(
                        "--keep",
                        str(config.BACKUP_KEEP.read()),
                        "--keep-daily",
                        str(config.BACKUP_KEEP_DAILY.read()),
                    ),
                ],
                env=env,
            )
        )
    stdout.write(style.SUCCESS(f"\ngov21 is running at http://{shown_host}:{port}/"))
    stdout.write(f"Registry back office: http://{shown_host}:{port}/office/registry/")
    stdout.write(f"Cases of the one-stop shop: http://{shown_host}:{port}/office/cases/")
    if demo.sign_ins:
        stdout.write("Demo sign-ins (passwords kept in the data directory, demo-sign-ins.txt):")
        for username, password, roles in demo.sign_ins:
            stdout.write(f"  {username:<10} {password:<14} {roles}")
        stdout.write("  (staff add an authenticator app or passkey at their first sign-in)")
    if demo.citizen is not None:
        stdout.write(
            f"Demo citizen: activate at http://{shown_host}:{port}/auth/activate with UIN {demo.citizen[0]}"
            f" and code {demo.citizen[1]} (kept in demo-citizen.txt)"
        )
    stdout.write("Press Ctrl+C to stop.")

    def stop(signum: int, frame: object) -> None:
        for proc in (web, *helpers):
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while web.poll() is None and all(proc.poll() is None for proc in helpers):
            time.sleep(0.5)
    finally:
        stop(0, None)
        for proc in (web, *helpers):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
