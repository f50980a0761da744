from tests.onestop.conftest import pay_provider

__all__ = ["pay_provider"]
