"""Dagster orchestration of the same sync, build and publish (the ``orchestrate`` extra; ``make orchestrate``).

Each tenant of the tenants file is a partition of the raw tables' assets (dagster-dlt), the dbt project is a set of
assets built once after the loads (dagster-dbt), and the analysts' copy is published after it: see
docs/orchestration.md. The pieces are the pipeline's own (``extract.pipeline.sync_tenant``, ``transform.publish``).
"""
