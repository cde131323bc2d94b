{#-
    Refresh the planner statistics of every source table (raw.*, audit.batches) before the models read them.
    The loader appends many rows per run and autovacuum may not have analysed them yet: with no statistics
    PostgreSQL estimates one row per batch and picks nested loops (measured on the default synthetic bank:
    fct_loan_days 18 s instead of 8 s, the whole build 58 s instead of 37 s). ANALYZE samples a fixed number
    of rows, so this costs well under a second. ANALYZE needs the table's owner, which dbt's role (the
    transformer) is not: audit.analyze_sources() (migration 0007) analyses those tables and nothing else.
    Off with --vars '{analyze_sources: false}'.
-#}
{% macro analyze_sources() -%}
    {%- if execute and var('analyze_sources', true) -%}
        select audit.analyze_sources()
    {%- endif -%}
{%- endmacro %}
