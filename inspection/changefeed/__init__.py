"""The change feed: ordering scopes numbered at commit, the per-bucket change index, pull cursors.

`records.py` writes through it (`pending`), sync's pull reads it (`feed`), and the audit log plugs
into its commit as a sink. It imports none of them.
"""
