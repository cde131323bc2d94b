{#- Fails with every row for which the SQL expression is not true (false or null). Narrow with config: where. -#}
{% test expression_is_true(model, expression) %}

select *

from {{ model }}

where not coalesce(({{ expression }}), false)

{% endtest %}
