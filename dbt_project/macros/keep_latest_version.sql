{#-
    One row per key: the version from the latest passed batch (latest business date, then the last line of
    the file). A key delivered again later (a re-sent or revised record) replaces the earlier version.
    Uses PostgreSQL's DISTINCT ON; the relation must carry loaded_business_date and source_line.
-#}
{% macro keep_latest_version(relation, key_columns) -%}
    select distinct on ({{ key_columns | join(', ') }}) *

    from {{ relation }}

    order by
        {{ key_columns | join(', ') }},
        loaded_business_date desc,
        source_line desc
{%- endmacro %}
