"""Runs the ELT: extract with dlt, build the dbt models, report what the run did."""
