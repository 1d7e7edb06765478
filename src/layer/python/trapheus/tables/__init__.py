"""DynamoDB tables: backup to S3 in parallel segments, and restore under a new name or the original one.

One module per concept: the item codec and content checksum (:mod:`codec`), where a backup's
files live and what its manifest says (:mod:`manifest`), the segment scan (:mod:`scan`), the
native export (:mod:`export`), the loader (:mod:`loader`), table settings capture and replay
(:mod:`settings`), on-demand backups (:mod:`ondemand`), the store of backups in S3
(:mod:`store`), a restore's journal and progress (:mod:`journal`), the status checks the
workflows poll (:mod:`status`), the execution input (:mod:`requests`) and the workflow steps
(:mod:`steps`).
"""
