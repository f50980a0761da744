from __future__ import annotations

import io
from typing import Any

from PIL import Image

from gov21.concerns import services
from gov21.concerns.models import Report
from gov21.exchange.contracts import agency_client, agency_service, exchange_call

REPORTS = agency_service("PORTAL", "concerns", "reports")
PWD = agency_client("PWD", "works")
WSA = agency_client("WSA", "water")


# A point in the capital's parish of the demo nation (near its first settlement).
def a_point() -> tuple[float, float]:
    from gov21.core.geography import geography

    settlement = geography()[0].settlements[0]
    return settlement.lat, settlement.lon


def report(code: str = "street-light", *, offset_m: float = 0.0, **fields: Any) -> Report:
    lat, lon = a_point()
    facts = services.ReportFacts(service_code=code, lat=lat + offset_m / 111_000, lon=lon, **fields)
    return services.report_submit(facts=facts)


def jpeg(*, size: tuple[int, int] = (64, 48), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif is not None:
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def call(client: str, path: str, *, method: str = "GET", body: bytes = b"", issue: str = "") -> Any:
    return exchange_call(
        client=client,
        service=REPORTS,
        path=path,
        method=method,
        body=body,
        content_type="application/json" if body else "",
        issue=issue or "handling a reported problem",
    )
