{#- marts.sync_runs holds the runs that did not succeed too, with no metrics. A warehouse built before that has the
    metric columns NOT NULL (the contract of the time); this lets them take NULL before the incremental insert.
    Dropping NOT NULL from a nullable column is a no-op on DuckDB and PostgreSQL alike. -#}
{% macro sync_runs_metrics_nullable() %}
    {%- if execute and is_incremental() -%}
        {%- for name in ['window_first', 'window_last', 'fetched', 'appointments_attempted', 'appointments_persisted',
                         'future_appointments', 'contacts_processed', 'contacts', 'contacts_with_revenue',
                         'total_revenue', 'unmatched_revenue'] %}
        alter table {{ this }} alter column {{ name }} drop not null;
        {%- endfor %}
    {%- endif -%}
{% endmacro %}
