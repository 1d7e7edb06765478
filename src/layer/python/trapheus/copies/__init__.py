"""Copies of production for development and staging (the ``<stack>-copy`` workflow).

A copy is a database trapheus restores beside its source under ``<lifecycle>-<YYYYMMDD-HHMM>[-suffix]``, tagged
with the lifecycle it belongs to and its stage; a stable DNS name (a Route 53 CNAME) points at the promoted copy.
"""
