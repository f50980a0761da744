"""Who used my data: every provider answer about a person, recorded by the provider's gateway in
a hash chain of its own (``uses:<node>``), listed for that person."""

from __future__ import annotations

from typing import Any

from gov21.exchange.models import DataUse, Member


def uses_for(*, subject: str, limit: int = 200) -> list[dict[str, Any]]:
    rows = list(DataUse.objects.filter(subject=subject).order_by("-at", "-seq")[:limit])
    names = {str(m): m.name for m in Member.objects.all()}
    result = []
    for row in rows:
        member = "/".join(row.client.split("/")[:3])
        result.append(
            {
                "at": row.at,
                "client": row.client,
                "agency": names.get(member, member),
                "service": row.service,
                "method": row.method,
                "path": row.path,
                "user_id": row.user_id,
                "purpose": row.issue,
                "message_id": row.message_id,
                "chain": row.chain,
                "seq": row.seq,
            }
        )
    return result
