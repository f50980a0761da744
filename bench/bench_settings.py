"""Settings for benchmark runs: gov21's own, plus the bare reference view (never in production)."""

from gov21.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
