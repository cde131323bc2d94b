{#-
    Days-past-due bucket: current (0), 1-29, 30-59, 60-89, 90+ (default). Null days past due stay null.
-#}
{% macro delinquency_bucket(days_past_due) -%}
    case
        when {{ days_past_due }} is null then null
        when {{ days_past_due }} <= 0 then 'current'
        when {{ days_past_due }} < 30 then '1-29'
        when {{ days_past_due }} < 60 then '30-59'
        when {{ days_past_due }} < 90 then '60-89'
        else '90+'
    end
{%- endmacro %}

{#-
    The labels delinquency_bucket() returns, from the least to the most overdue.
-#}
{% macro delinquency_bucket_names() -%}
    {{ return(['current', '1-29', '30-59', '60-89', '90+']) }}
{%- endmacro %}
