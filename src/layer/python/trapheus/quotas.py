"""Account quotas a run needs room in, read from DescribeAccountAttributes before any change.

https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeAccountAttributes.html; the quota
names are those of https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html. A quota that
cannot be read is a blocker: a run that passes only because nobody looked fails halfway.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from trapheus.errors import QuotaExceededError


def account_quotas(client: Any) -> dict[str, dict[str, int]]:
    """Quota name -> {"used", "max"}; raises QuotaExceededError when the quotas cannot be read."""
    try:
        quotas = client.describe_account_attributes().get("AccountQuotas", [])
    except ClientError as error:
        raise QuotaExceededError(f"the account quotas could not be read ({error.response.get('Error', {}).get('Code')}); "
                                 "trapheus refuses to start a run it cannot size") from error
    return {q["AccountQuotaName"]: {"used": int(q["Used"]), "max": int(q["Max"])} for q in quotas}


def shortfalls(needs: dict[str, int], client: Any) -> list[QuotaExceededError]:
    """A blocker for each quota without room for what the run ``needs`` (quota name -> how many more)."""
    try:
        quotas = account_quotas(client)
    except QuotaExceededError as error:
        return [error]
    found = []
    for name, more in needs.items():
        if more <= 0:
            continue
        quota = quotas.get(name)
        if quota is None:
            found.append(QuotaExceededError(f"the account quota {name} could not be read; the run needs {more} more"))
        elif quota["max"] - quota["used"] < more:
            found.append(QuotaExceededError(
                f"{quota['max'] - quota['used']} left of the account quota {name} ({quota['used']} of {quota['max']} used); "
                f"the run needs {more}"
            ))
    return found
