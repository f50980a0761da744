from tests.services.conftest import pay_provider

__all__ = ["pay_provider"]
