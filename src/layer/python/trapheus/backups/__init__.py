"""Disaster-recovery snapshots of many databases: a policy, its selection, the snapshots it keeps, shares and
copies, and the report of each run (source side), and the copies a DR account makes of what is shared with it
(:mod:`trapheus.backups.dr`)."""
