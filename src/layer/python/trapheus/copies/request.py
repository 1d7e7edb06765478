"""The copy workflow's input, checked before anything is touched.

::

    {"source": "ledger", "isCluster": true, "lifecycle": "ledger-staging", "action": "refresh",
     "from": {"snapshot": "latest"},
     "dns": {"hostedZoneId": "Z123", "recordName": "ledger-staging.db.example.internal", "ttl": 60}}

Every field is checked here, and every combination that cannot work (a clone of an instance, a promotion without
a DNS name, ...) is refused with a message a person can act on, before the run takes its lock.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from trapheus.copies import dns
from trapheus.errors import InvalidInputError
from trapheus.inputs import LAMBDA_FUNCTION_ARN, LATEST, format_time, parse_time, require_bool
from trapheus.names import DATABASE_ID_MAX, check_identifier

KNOWN_FIELDS = frozenset({
    "source", "isCluster", "lifecycle", "action", "from", "dns", "minimumAgeHours", "suffix", "instanceClass",
    "readers", "modify", "verify", "approve", "approvalTimeoutMinutes", "adopt", "keep", "finalSnapshot",
    "retireAfterMinutes", "copy", "configuration",
})
MODIFY_FIELDS = frozenset({
    "dbParameterGroup", "clusterParameterGroup", "vpcSecurityGroupIds", "iamRoles", "instanceClass",
    "backupRetentionPeriod", "deletionProtection", "masterPassword",
})
CONFIGURATION_FIELDS = frozenset({
    "dbSubnetGroup", "vpcSecurityGroupIds", "dbParameterGroup", "clusterParameterGroup", "instanceClass", "members",
    "port", "kmsKeyId",
})
TIMESTAMP_LENGTH = len("-20261130-0412")
MEMBER_SUFFIX_LENGTH = len("-15")  # a cluster has at most 15 instances (one writer, 15 readers at most)
MAX_READERS = 15
SNAPSHOT_ARN = re.compile(r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:(snapshot|cluster-snapshot):[A-Za-z0-9:-]+$")
INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
PASSWORD_CHOICES = ("rotate", "managed")
DEFAULT_APPROVAL_MINUTES = 24 * 60
MIN_RETIRE_MINUTES = 10
MAX_TAG_VALUE = 256  # RDS tag values (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html)


class Action(str, Enum):
    NEW = "new"
    CLONE = "clone"
    MODIFY = "modify"
    VERIFY = "verify"
    PROMOTE = "promote"
    RETIRE = "retire"
    REFRESH = "refresh"
    DRILL = "drill"

    @property
    def makes_copy(self) -> bool:
        return self in (Action.NEW, Action.CLONE, Action.REFRESH, Action.DRILL)

    @property
    def promotes(self) -> bool:
        return self in (Action.PROMOTE, Action.REFRESH)

    @property
    def retires(self) -> bool:
        return self in (Action.RETIRE, Action.REFRESH)

    @property
    def on_existing_copy(self) -> bool:
        return self in (Action.MODIFY, Action.VERIFY, Action.PROMOTE)


@dataclass(frozen=True)
class Origin:
    """Where a new copy's data comes from: a snapshot ("latest" or named), a point in time, or a clone."""

    snapshot: str | None = None
    point_in_time: str | None = None  # "latest" or ISO-8601 UTC
    clone: bool = False

    def to_dict(self) -> dict[str, Any]:
        if self.clone:
            return {"clone": True}
        if self.point_in_time is not None:
            return {"pointInTime": self.point_in_time}
        return {"snapshot": self.snapshot}

    @property
    def snapshot_arn(self) -> bool:
        return bool(self.snapshot and self.snapshot.startswith("arn:"))


@dataclass(frozen=True)
class Modification:
    """What the modify stage changes on a copy (absent = as the source has it)."""

    db_parameter_group: str | None = None
    cluster_parameter_group: str | None = None
    vpc_security_group_ids: tuple[str, ...] | None = None
    iam_roles: tuple[str, ...] | None = None
    instance_class: str | None = None
    backup_retention_period: int | None = None
    deletion_protection: bool | None = None
    master_password: str | None = None  # "rotate" or "managed"

    def to_dict(self) -> dict[str, Any]:
        names = {
            "db_parameter_group": "dbParameterGroup", "cluster_parameter_group": "clusterParameterGroup",
            "vpc_security_group_ids": "vpcSecurityGroupIds", "iam_roles": "iamRoles", "instance_class": "instanceClass",
            "backup_retention_period": "backupRetentionPeriod", "deletion_protection": "deletionProtection",
            "master_password": "masterPassword",
        }
        return {names[k]: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v is not None}

    @property
    def empty(self) -> bool:
        return not self.to_dict()


@dataclass(frozen=True)
class CopyRequest:
    lifecycle: str
    action: Action
    is_cluster: bool | None  # None: an action on existing copies, of either kind
    source: str | None = None
    origin: Origin = field(default_factory=lambda: Origin(snapshot=LATEST))
    dns: tuple[dns.DnsTarget, ...] = ()
    minimum_age_hours: float | None = None
    suffix: str | None = None
    instance_class: str | None = None
    readers: int | None = None
    modify: Modification = field(default_factory=Modification)
    verify_function: str | None = None
    approve: bool = False
    approval_timeout_minutes: int = DEFAULT_APPROVAL_MINUTES
    adopt: bool = False
    keep: int = 0
    final_snapshot: bool = True
    retire_after_minutes: int | None = None
    copy: str | None = None
    configuration: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "lifecycle": self.lifecycle,
            "action": self.action.value,
            "isCluster": self.is_cluster,
            "source": self.source,
            "from": self.origin.to_dict(),
            "dns": [target.to_dict() for target in self.dns],
            "minimumAgeHours": self.minimum_age_hours,
            "suffix": self.suffix,
            "instanceClass": self.instance_class,
            "readers": self.readers,
            "modify": self.modify.to_dict(),
            "verify": {"functionArn": self.verify_function} if self.verify_function else None,
            "approve": self.approve,
            "approvalTimeoutMinutes": self.approval_timeout_minutes,
            "adopt": self.adopt,
            "keep": self.keep,
            "finalSnapshot": self.final_snapshot,
            "retireAfterMinutes": self.retire_after_minutes,
            "copy": self.copy,
            "configuration": self.configuration,
        }
        defaults = {"dns": [], "modify": {}, "approve": False, "approvalTimeoutMinutes": DEFAULT_APPROVAL_MINUTES,
                    "adopt": False, "keep": 0, "finalSnapshot": True}
        if not self.action.makes_copy:
            defaults["from"] = Origin().to_dict()
        return {k: v for k, v in data.items() if v is not None and (k not in defaults or v != defaults[k])}

    @property
    def retire_after_seconds(self) -> int:
        """How long a refresh keeps the previous copy after the promotion: twice the longest TTL, at least
        10 minutes, so that clients holding the old answer or pooled connections are not cut off mid-query."""
        if self.retire_after_minutes is not None:
            return self.retire_after_minutes * 60
        longest_ttl = max((target.ttl for target in self.dns), default=0)
        return max(2 * longest_ttl, MIN_RETIRE_MINUTES * 60)


def _whole(data: dict[str, Any], name: str, low: int, high: int, default: int | None = None) -> int | None:
    if name not in data:
        return default
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"'{name}' must be a whole number from {low} to {high}, got {value!r}")
    return value


def _text(value: Any, name: str, pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.match(value)):
        raise InvalidInputError(f"'{name}' must be {hint or 'a non-empty string'}, got {value!r}")
    return value


def _origin(data: dict[str, Any], action: Action, is_cluster: bool | None) -> Origin:
    if action is Action.CLONE:
        if "from" in data and data["from"] != {"clone": True}:
            raise InvalidInputError("action 'clone' makes a copy-on-write clone: leave 'from' out, or give {\"clone\": true}")
        value: Any = {"clone": True}
    else:
        value = data.get("from", {"snapshot": LATEST})
    if not action.makes_copy:
        if "from" in data:
            raise InvalidInputError(f"'from' says where a new copy comes from; action {action.value!r} makes none")
        return Origin()
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidInputError(
            '\'from\' must be one of {"snapshot": "latest" | "<id or ARN>"}, {"pointInTime": "latest" | "<ISO-8601>"} '
            f'or {{"clone": true}}, got {value!r}'
        )
    (key, chosen), = value.items()
    if key == "snapshot":
        snapshot = _text(chosen, "from.snapshot", hint='"latest", a snapshot identifier or a snapshot ARN')
        if snapshot.startswith("arn:") and not SNAPSHOT_ARN.match(snapshot):
            raise InvalidInputError(f"'from.snapshot' {snapshot!r} is not the ARN of an RDS snapshot")
        if snapshot.startswith("arn:") and (":cluster-snapshot:" in snapshot) != is_cluster:
            raise InvalidInputError(f"'from.snapshot' {snapshot!r} is a{' cluster' if ':cluster-snapshot:' in snapshot else 'n instance'} snapshot, but isCluster is {str(is_cluster).lower()}")
        return Origin(snapshot=snapshot if snapshot.startswith("arn:") or snapshot == LATEST else snapshot.lower())
    if key == "pointInTime":
        if isinstance(chosen, str) and chosen.strip().lower() == LATEST:
            return Origin(point_in_time=LATEST)
        return Origin(point_in_time=format_time(parse_time(chosen, field_name="from.pointInTime")))
    if key == "clone":
        if chosen is not True:
            raise InvalidInputError(f"'from.clone' must be true, got {chosen!r}")
        if not is_cluster:
            raise InvalidInputError("a copy-on-write clone is an Aurora feature: an instance is copied from a snapshot or a point in time")
        return Origin(clone=True)
    raise InvalidInputError(f"'from' has an unknown key {key!r}: use snapshot, pointInTime or clone")


def _modification(value: Any) -> Modification:
    if value is None:
        return Modification()
    if not isinstance(value, dict):
        raise InvalidInputError(f"'modify' must be an object, got {value!r}")
    unknown = sorted(set(value) - MODIFY_FIELDS)
    if unknown:
        raise InvalidInputError(f"unknown field(s) in 'modify': {', '.join(unknown)}; allowed: {', '.join(sorted(MODIFY_FIELDS))}")

    def names(key: str, prefix: str) -> tuple[str, ...] | None:
        if key not in value:
            return None
        items = value[key]
        if not isinstance(items, list) or not all(isinstance(i, str) and i.startswith(prefix) for i in items):
            raise InvalidInputError(f"'modify.{key}' must be a list of strings starting with {prefix!r}, got {items!r}")
        return tuple(sorted(set(items)))

    password = value.get("masterPassword")
    if password is not None and password not in PASSWORD_CHOICES:
        raise InvalidInputError(f"'modify.masterPassword' must be \"rotate\" or \"managed\", got {password!r}")
    retention = _whole(value, "backupRetentionPeriod", 0, 35)
    protection = value.get("deletionProtection")
    if protection is not None and not isinstance(protection, bool):
        raise InvalidInputError(f"'modify.deletionProtection' must be true or false, got {protection!r}")
    return Modification(
        db_parameter_group=_text(value["dbParameterGroup"], "modify.dbParameterGroup") if "dbParameterGroup" in value else None,
        cluster_parameter_group=_text(value["clusterParameterGroup"], "modify.clusterParameterGroup") if "clusterParameterGroup" in value else None,
        vpc_security_group_ids=names("vpcSecurityGroupIds", "sg-"),
        iam_roles=names("iamRoles", "arn:"),
        instance_class=_text(value["instanceClass"], "modify.instanceClass", INSTANCE_CLASS, "an instance class such as db.r6g.large") if "instanceClass" in value else None,
        backup_retention_period=retention,
        deletion_protection=protection,
        master_password=password,
    )


def _configuration(value: Any) -> dict[str, Any] | None:
    """The configuration given in the input, for a copy of a snapshot whose source is not in this account."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInputError(f"'configuration' must be an object, got {value!r}")
    unknown = sorted(set(value) - CONFIGURATION_FIELDS)
    if unknown:
        raise InvalidInputError(f"unknown field(s) in 'configuration': {', '.join(unknown)}; allowed: {', '.join(sorted(CONFIGURATION_FIELDS))}")
    if "instanceClass" in value:
        _text(value["instanceClass"], "configuration.instanceClass", INSTANCE_CLASS, "an instance class such as db.r6g.large")
    _whole(value, "members", 1, MAX_READERS + 1)
    _whole(value, "port", 1150, 65535)
    return dict(value)


def _check_combination(request: CopyRequest, data: dict[str, Any]) -> None:
    action = request.action
    if action.promotes and not request.dns:
        raise InvalidInputError(f"action {action.value!r} points a DNS name at the copy: give 'dns' (hostedZoneId, recordName)")
    if len(" ".join(target.key for target in request.dns)) > MAX_TAG_VALUE:
        raise InvalidInputError(f"the DNS names are more than a promoted copy's tag can name ({MAX_TAG_VALUE} characters): give fewer")
    if request.source is None and action.makes_copy and not request.origin.snapshot_arn:
        raise InvalidInputError("'source' is required, except for a copy of a snapshot given by its ARN")
    if request.readers is not None and not request.is_cluster:
        raise InvalidInputError("'readers' is the number of Aurora readers: an instance has none")
    if request.modify.cluster_parameter_group and request.is_cluster is False:
        raise InvalidInputError("'modify.clusterParameterGroup' is an Aurora cluster's: an instance takes 'dbParameterGroup'")
    if not request.modify.empty and not (action.makes_copy or action is Action.MODIFY):
        raise InvalidInputError(f"'modify' changes a copy this run makes, or one the modify action names; action {action.value!r} does neither")
    if request.verify_function and action not in (Action.VERIFY, Action.PROMOTE) and not action.makes_copy:
        raise InvalidInputError(f"'verify' checks a copy before it is used; action {action.value!r} checks none")
    if request.dns and not action.promotes:
        raise InvalidInputError(f"'dns' names where a promotion points; action {action.value!r} promotes nothing")
    if request.approve and not action.promotes:
        raise InvalidInputError(f"'approve' pauses before a promotion; action {action.value!r} promotes nothing")
    if request.copy is not None and not action.on_existing_copy:
        raise InvalidInputError(f"'copy' names an existing copy for modify, verify or promote; action {action.value!r} does not take one")
    if action is Action.MODIFY and request.modify.empty:
        raise InvalidInputError("action 'modify' needs 'modify' (what to change on the copy)")
    if action is Action.VERIFY and not request.verify_function:
        raise InvalidInputError('action \'verify\' needs \'verify\': {"functionArn": "<your Lambda function>"}')
    if request.minimum_age_hours is not None and not action.makes_copy:
        raise InvalidInputError(f"'minimumAgeHours' skips making a copy; action {action.value!r} makes none")
    if action is Action.DRILL and request.modify.master_password == "rotate":
        raise InvalidInputError("a drill makes a copy, checks it and deletes it: it takes no password rotation")
    if request.configuration is not None and not request.origin.snapshot_arn:
        raise InvalidInputError("'configuration' describes the source of a snapshot given by its ARN (a DR copy); here the source is read")
    for name in ("keep", "finalSnapshot"):
        if name in data and not action.retires:
            raise InvalidInputError(f"'{name}' belongs to the retire stage; action {action.value!r} retires nothing")
    if "retireAfterMinutes" in data and action is not Action.REFRESH:
        raise InvalidInputError("'retireAfterMinutes' is the delay between a refresh's promotion and its retire stage")


def parse(data: Any) -> CopyRequest:
    """Validate the console input; raise InvalidInputError with a message a person can act on."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"the input must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KNOWN_FIELDS))}")
    try:
        action = Action(data.get("action")) if isinstance(data.get("action"), str) else None
    except ValueError:
        action = None
    if action is None:
        raise InvalidInputError(f"'action' must be one of {', '.join(a.value for a in Action)}, got {data.get('action')!r}")
    # a new copy is of a cluster or of an instance; existing copies are found by their lifecycle, of either kind
    is_cluster = require_bool(data, "isCluster") if action.makes_copy or "isCluster" in data else None
    suffix = data.get("suffix")
    if suffix is not None:
        suffix = _text(suffix, "suffix", re.compile(r"^[A-Za-z0-9]{1,12}$"), "1 to 12 letters and digits").lower()
    room = DATABASE_ID_MAX - TIMESTAMP_LENGTH - (len(suffix) + 1 if suffix else 0) - (MEMBER_SUFFIX_LENGTH if is_cluster is not False else 0)
    if "lifecycle" not in data:
        raise InvalidInputError("missing required field 'lifecycle' (the name of this series of copies, such as ledger-staging)")
    lifecycle = check_identifier(data["lifecycle"], field_name="lifecycle", max_length=room, suffix="-YYYYMMDD-HHMM")
    source = check_identifier(data["source"], field_name="source", max_length=DATABASE_ID_MAX) if "source" in data else None
    minimum_age = data.get("minimumAgeHours")
    if minimum_age is not None and (isinstance(minimum_age, bool) or not isinstance(minimum_age, (int, float)) or minimum_age < 0):
        raise InvalidInputError(f"'minimumAgeHours' must be a number of hours, 0 or more, got {minimum_age!r}")
    verify = data.get("verify")
    if verify is not None:
        if not isinstance(verify, dict) or set(verify) != {"functionArn"}:
            raise InvalidInputError('\'verify\' must be {"functionArn": "<ARN of your Lambda function>"}')
        _text(verify["functionArn"], "verify.functionArn", LAMBDA_FUNCTION_ARN, "the ARN of a Lambda function")
    instance_class = data.get("instanceClass")
    if instance_class is not None:
        _text(instance_class, "instanceClass", INSTANCE_CLASS, "an instance class such as db.r6g.large")
    copy = check_identifier(data["copy"], field_name="copy", max_length=DATABASE_ID_MAX) if "copy" in data else None
    request = CopyRequest(
        lifecycle=lifecycle,
        action=action,
        is_cluster=is_cluster,
        source=source,
        origin=_origin(data, action, is_cluster),
        dns=tuple(dns.parse_targets(data["dns"])) if "dns" in data else (),
        minimum_age_hours=float(minimum_age) if minimum_age is not None else None,
        suffix=suffix,
        instance_class=instance_class,
        readers=_whole(data, "readers", 0, MAX_READERS),
        modify=_modification(data.get("modify")),
        verify_function=verify["functionArn"] if verify else None,
        approve=require_bool(data, "approve", default=False),
        approval_timeout_minutes=_whole(data, "approvalTimeoutMinutes", 1, 7 * 24 * 60, DEFAULT_APPROVAL_MINUTES) or DEFAULT_APPROVAL_MINUTES,
        adopt=require_bool(data, "adopt", default=False),
        keep=_whole(data, "keep", 0, 100, 0) or 0,
        final_snapshot=require_bool(data, "finalSnapshot", default=True),
        retire_after_minutes=_whole(data, "retireAfterMinutes", 0, 7 * 24 * 60),
        copy=copy,
        configuration=_configuration(data.get("configuration")),
    )
    if request.adopt and not action.promotes:
        raise InvalidInputError(f"'adopt' lets a promotion take over a CNAME trapheus did not write; action {action.value!r} promotes nothing")
    _check_combination(request, data)
    return request


def from_state(data: dict[str, Any]) -> CopyRequest:
    """The request as the survey stored it in the run's state (already valid)."""
    return parse({k: v for k, v in data.items() if k in KNOWN_FIELDS})
