"""Capture reads every carried setting; modify arguments only touch what differs."""

from trapheus.configuration import (
    INSTANCE_SETTINGS,
    capture_instance,
    modify_arguments,
    restore_arguments,
    twin_differences,
)
from trapheus.kinds import CLUSTER, INSTANCE


def describe_instance(**overrides):
    base = {
        "DBInstanceClass": "db.m6g.large",
        "Engine": "mysql",
        "AllocatedStorage": 100,
        "StorageType": "gp3",
        "Iops": 3000,
        "StorageThroughput": 125,
        "MultiAZ": False,
        "AvailabilityZone": "us-east-1b",
        "DbInstancePort": 3306,
        "EnabledCloudwatchLogsExports": ["slowquery", "error"],
        "TagList": [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}],
        "MonitoringInterval": 0,
        "MonitoringRoleArn": "arn:aws:iam::1:role/x",
    }
    base.update(overrides)
    return base


def test_small_gp3_volume_does_not_carry_its_baseline_iops():
    # RDS rejects Iops/StorageThroughput for gp3 below 400 GiB, though it reports them
    settings = capture_instance(describe_instance())["settings"]
    assert "Iops" not in settings and "StorageThroughput" not in settings


def test_large_gp3_and_io1_carry_provisioned_performance():
    assert capture_instance(describe_instance(AllocatedStorage=400))["settings"]["Iops"] == 3000
    io1 = capture_instance(describe_instance(StorageType="io1", Iops=5000))["settings"]
    assert io1["Iops"] == 5000 and "StorageThroughput" not in io1


def test_single_az_keeps_its_zone_multi_az_does_not():
    assert capture_instance(describe_instance())["settings"]["AvailabilityZone"] == "us-east-1b"
    assert "AvailabilityZone" not in capture_instance(describe_instance(MultiAZ=True))["settings"]


def test_monitoring_role_only_when_monitoring_is_on():
    assert "MonitoringRoleArn" not in capture_instance(describe_instance())["settings"]


def test_lists_and_tags_are_normalised_for_comparison():
    captured = capture_instance(describe_instance())
    assert captured["settings"]["EnableCloudwatchLogsExports"] == ["error", "slowquery"]
    assert [t["Key"] for t in captured["tags"]] == ["a", "b"]


def test_restore_arguments_leave_out_modify_only_settings():
    captured = capture_instance(describe_instance(MonitoringInterval=60, PreferredMaintenanceWindow="sun:01:00-sun:02:00"))
    arguments = restore_arguments(INSTANCE, captured)
    assert arguments["DBInstanceClass"] == "db.m6g.large"
    assert arguments["Port"] == 3306
    assert "MonitoringInterval" not in arguments and "PreferredMaintenanceWindow" not in arguments
    assert arguments["Tags"] == captured["tags"]


def test_modify_arguments_translate_names_and_log_exports():
    wanted = {"Port": 3307, "EnableCloudwatchLogsExports": ["audit", "error"], "LicenseModel": "x", "DBInstanceClass": "db.t4g.micro"}
    actual = {"Port": 3306, "EnableCloudwatchLogsExports": ["error", "general"], "LicenseModel": "y", "DBInstanceClass": "db.t4g.micro"}
    arguments = modify_arguments(INSTANCE_SETTINGS, wanted, actual)
    assert arguments == {
        "DBPortNumber": 3307,
        "CloudwatchLogsExportConfiguration": {"EnableLogTypes": ["audit"], "DisableLogTypes": ["general"]},
    }


def test_twin_differences_name_each_mismatch():
    original = {"kind": CLUSTER.name, "settings": {"Port": 1}, "tags": [], "roles": [],
                "members": [{"identifier": "m1", "writer": True, "settings": {"PromotionTier": 1}, "tags": []}]}
    restored = {"kind": CLUSTER.name, "settings": {"Port": 2}, "tags": [], "roles": [],
                "members": [{"identifier": "m1", "writer": False, "settings": {"PromotionTier": 1}, "tags": []}]}
    problems = twin_differences(original, restored)
    assert problems == ["Port: wanted 1, found 2", "member m1 writer: wanted True, found False"]
    assert twin_differences(original, original) == []


def test_gp3_provisioned_performance_follows_each_engines_threshold():
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage
    assert "Iops" in capture_instance(describe_instance(Engine="oracle-ee", AllocatedStorage=200))["settings"]
    assert "Iops" not in capture_instance(describe_instance(Engine="oracle-ee", AllocatedStorage=199))["settings"]
    assert "Iops" in capture_instance(describe_instance(Engine="sqlserver-se", AllocatedStorage=20))["settings"]
    assert "Iops" not in capture_instance(describe_instance(Engine="postgres", AllocatedStorage=399))["settings"]


def test_reserved_tags_are_neither_captured_nor_compared():
    tagged = describe_instance(TagList=[{"Key": "aws:cloudformation:stack-name", "Value": "s"}, {"Key": "team", "Value": "a"}])
    assert capture_instance(tagged)["tags"] == [{"Key": "team", "Value": "a"}]


def test_a_self_managed_directory_is_carried_by_its_own_fields_not_by_domain():
    membership = {"Domain": "corp", "FQDN": "corp.example.com", "OU": "OU=db,DC=corp", "AuthSecretArn": "arn:s", "DnsIps": ["10.0.0.2", "10.0.0.1"], "Status": "joined"}
    settings = capture_instance(describe_instance(DomainMemberships=[membership]))["settings"]
    assert settings["DomainFqdn"] == "corp.example.com" and settings["DomainDnsIps"] == ["10.0.0.1", "10.0.0.2"]
    assert "Domain" not in settings and "DomainIAMRoleName" not in settings


def test_deletion_protection_is_left_to_the_last_step():
    captured = capture_instance(describe_instance(DeletionProtection=True))
    assert "DeletionProtection" not in restore_arguments(INSTANCE, captured)
    assert modify_arguments(INSTANCE_SETTINGS, captured["settings"], {**captured["settings"], "DeletionProtection": False}) == {}
