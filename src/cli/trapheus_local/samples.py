"""Sample databases whose every carried setting differs from the defaults.

A restore that drops a setting shows up as a difference against these. The
demo creates them in the emulator, and the tests use them against moto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASSWORD = "not-a-real-password-1"
MONITORING_ROLE_ARN = "arn:aws:iam::123456789012:role/rds-monitoring"
# What a stack needs to restore the samples: the databases it may change, and the monitoring role they pass
# to RDS. The samples go by names that share no prefix (orders-db, ledger, orders-<hex>, db001, cl001...), so
# no narrower IAM pattern covers them; deploys whose databases share one narrow it (the bench: bench-*), and
# tests/workflow/test_local_engine.py shows a database outside the pattern refused before any change.
STACK_PARAMETERS = {"ManagedDatabasePattern": "*", "PassableRoleArns": MONITORING_ROLE_ARN}


@dataclass
class Network:
    subnet_group: str
    security_groups: list[str]


def make_network(ec2: Any, rds: Any, name: str = "trapheus-test") -> Network:
    """A VPC with two subnets in two zones, two security groups and a DB subnet group."""
    region = ec2.meta.region_name
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab", start=1)
    ]
    groups = [
        ec2.create_security_group(GroupName=f"{name}-{i}", Description="database access", VpcId=vpc)["GroupId"]
        for i in range(2)
    ]
    rds.create_db_subnet_group(DBSubnetGroupName=f"{name}-subnets", DBSubnetGroupDescription="db", SubnetIds=subnets)
    return Network(f"{name}-subnets", groups)


def make_instance(rds: Any, ec2: Any, identifier: str = "orders-db", **overrides: Any) -> dict:
    """A MySQL instance whose every carried setting differs from the defaults."""
    network = make_network(ec2, rds, f"{identifier}-net")
    rds.create_db_parameter_group(
        DBParameterGroupName=f"{identifier}-params", DBParameterGroupFamily="mysql8.0", Description="tuned"
    )
    rds.create_option_group(
        OptionGroupName=f"{identifier}-options", EngineName="mysql", MajorEngineVersion="8.0", OptionGroupDescription="opts"
    )
    arguments = dict(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.m6g.large",
        Engine="mysql",
        EngineVersion="8.0.39",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
        AllocatedStorage=500,
        MaxAllocatedStorage=1000,
        StorageType="gp3",
        Iops=12000,
        StorageThroughput=500,
        MultiAZ=True,
        DBParameterGroupName=f"{identifier}-params",
        OptionGroupName=f"{identifier}-options",
        DBSubnetGroupName=network.subnet_group,
        VpcSecurityGroupIds=network.security_groups,
        Port=3307,
        PubliclyAccessible=False,
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["error", "slowquery"],
        DeletionProtection=True,
        CopyTagsToSnapshot=True,
        BackupRetentionPeriod=9,
        PreferredBackupWindow="03:00-04:00",
        PreferredMaintenanceWindow="sun:05:00-sun:06:00",
        MonitoringInterval=30,
        MonitoringRoleArn=MONITORING_ROLE_ARN,
        AutoMinorVersionUpgrade=False,
        CACertificateIdentifier="rds-ca-rsa2048-g1",
        EngineLifecycleSupport="open-source-rds-extended-support-disabled",  # a restore defaults to paid support
        EnablePerformanceInsights=True,
        PerformanceInsightsRetentionPeriod=31,
        Tags=[{"Key": "team", "Value": "orders"}, {"Key": "env", "Value": "staging"}],
    )
    arguments.update(overrides)
    rds.create_db_instance(**arguments)
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def make_cluster(
    rds: Any, ec2: Any, identifier: str = "ledger", members: int = 3, database_name: str | None = "ledger",
    backtrack_hours: int = 0,
) -> dict:
    """An Aurora MySQL cluster with a writer and readers of different classes and promotion tiers (and, with
    ``backtrack_hours``, backtracking on)."""
    network = make_network(ec2, rds, f"{identifier}-net")
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=f"{identifier}-cluster-params",
        DBParameterGroupFamily="aurora-mysql8.0",
        Description="c",
    )
    rds.create_db_parameter_group(
        DBParameterGroupName=f"{identifier}-params", DBParameterGroupFamily="aurora-mysql8.0", Description="i"
    )
    arguments: dict[str, Any] = dict(
        DBClusterIdentifier=identifier,
        Engine="aurora-mysql",
        EngineVersion="8.0.mysql_aurora.3.08.0",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
        Port=3310,
        DBSubnetGroupName=network.subnet_group,
        VpcSecurityGroupIds=network.security_groups,
        DBClusterParameterGroupName=f"{identifier}-cluster-params",
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["audit", "error"],
        DeletionProtection=True,
        CopyTagsToSnapshot=True,
        BackupRetentionPeriod=7,
        PreferredBackupWindow="02:00-03:00",
        PreferredMaintenanceWindow="mon:04:00-mon:05:00",
        # auto-pause (MinCapacity 0) keeps its delay only while it is on
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.0, "MaxCapacity": 8.0, "SecondsUntilAutoPause": 900},
        EngineLifecycleSupport="open-source-rds-extended-support-disabled",
        Tags=[{"Key": "team", "Value": "ledger"}],
    )
    if database_name:
        arguments["DatabaseName"] = database_name
    if backtrack_hours:
        arguments["BacktrackWindow"] = backtrack_hours * 3600
    rds.create_db_cluster(**arguments)
    classes = ["db.r6g.xlarge", "db.r6g.large", "db.serverless"]
    for index in range(members):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{identifier}-{index + 1}",
            DBClusterIdentifier=identifier,
            Engine="aurora-mysql",
            DBInstanceClass=classes[index % len(classes)],
            DBParameterGroupName=f"{identifier}-params",
            PromotionTier=index + 1,
            PubliclyAccessible=False,
            Tags=[{"Key": "role", "Value": "writer" if index == 0 else "reader"}],
        )
    return rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
