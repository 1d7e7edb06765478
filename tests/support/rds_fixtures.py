"""Databases with non-default settings, so a restore that drops one shows up.

They live in the package (trapheus_local.samples) because the demo uses them too.
"""

from trapheus_local.samples import PASSWORD, STACK_PARAMETERS, Network, make_cluster, make_instance, make_network
from trapheus_local.strict_rds import Quotas

# A test module that creates hundreds of databases in one emulator needs room beyond RDS's default quotas
# (the quota rules have tests of their own, with the defaults).
ROOMY_QUOTAS = Quotas(db_instances=10_000, db_clusters=10_000, manual_snapshots=10_000, manual_cluster_snapshots=10_000)

__all__ = ["PASSWORD", "ROOMY_QUOTAS", "STACK_PARAMETERS", "Network", "Quotas", "make_cluster", "make_instance", "make_network"]
