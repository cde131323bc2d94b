{#-
    The batches of one landing source that passed the quality gate, with their business date.
    Staging models inner-join their raw rows to this, so rows of batches that are still 'loaded'
    (not yet validated), 'quarantined' or 'superseded' never reach a model.
-#}
{% macro passed_batches(source_name) -%}
    select
        batch_id,
        business_date as loaded_business_date

    from {{ source('audit', 'batches') }}

    where
        status = 'passed'
        and source = '{{ source_name }}'
{%- endmacro %}
