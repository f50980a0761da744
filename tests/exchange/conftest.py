"""The ``exchange`` fixture (the demo nation's exchange) lives in tests/conftest.py."""
