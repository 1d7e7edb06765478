"""RDS engine versions as the local engine knows them: parameter group family and major version.

Naming from the RDS user guide (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html)
and DescribeDBEngineVersions: MySQL and MariaDB families keep major.minor (``mysql8.0``, ``mariadb10.11``),
PostgreSQL from 10 on the major alone (``postgres16``; ``postgres9.6`` before), Aurora the same way
(``aurora-mysql8.0`` for ``8.0.mysql_aurora.3.*``, ``aurora-postgresql15``).
"""

from __future__ import annotations

import re

_FAMILY_ENGINES = ("mysql", "mariadb", "aurora-mysql", "postgres", "aurora-postgresql")


def major_version(engine: str, version: str) -> str | None:
    """``8.0`` for MySQL 8.0.x, ``16`` for PostgreSQL 16.x, ``9.6`` for PostgreSQL 9.6.x."""
    match = re.match(r"^(\d+)\.(\d+)", version)
    if not match:
        return None
    first, second = match.groups()
    if "postgres" in engine and int(first) >= 10:
        return first
    return f"{first}.{second}"


def engine_family(engine: str, version: str) -> str | None:
    """The parameter group family of an engine version, or None for engines the local engine does not model."""
    major = major_version(engine, version)
    if major is None or engine not in _FAMILY_ENGINES:
        return None
    return f"{engine}{major}"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))
