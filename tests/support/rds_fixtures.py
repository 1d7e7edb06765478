"""Databases with non-default settings, so a restore that drops one shows up.

They live in the package (trapheus_local.samples) because the demo uses them too.
"""

from trapheus_local.samples import PASSWORD, Network, make_cluster, make_instance, make_network

__all__ = ["PASSWORD", "Network", "make_cluster", "make_instance", "make_network"]
