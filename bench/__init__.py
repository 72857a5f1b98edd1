"""``make bench``: the pipeline measured against its physical floor (plain HTTP fetch + DuckDB's own JSON load)."""
