{#-
    A single text key for a composite grain: the columns cast to text, joined with '|'
    (e.g. 'L1|2024-01-05'). A null part becomes '<null>' so distinct rows never share a key.
-#}
{% macro surrogate_key(columns) -%}
    {%- for column in columns -%}
        coalesce(cast({{ column }} as text), '<null>')
        {%- if not loop.last %} || '|' || {% endif -%}
    {%- endfor -%}
{%- endmacro %}
