{#-
    Whole calendar months from start_date to end_date (age() semantics: 31 Jan -> 29 Feb is 0 months,
    31 Jan -> 1 Mar is 1 month). Negative when end_date is before start_date.
-#}
{% macro months_between(start_date, end_date) -%}
    cast(
        extract(year from age({{ end_date }}, {{ start_date }})) * 12
        + extract(month from age({{ end_date }}, {{ start_date }}))
        as integer
    )
{%- endmacro %}
