{#-
    Fails with every row for which the SQL expression is not true (false or null). Works on a model or on
    one of its columns (the column only names the test; the expression says what is checked).
    Narrow it with config: where.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *

from {{ model }}

where not coalesce(({{ expression }}), false)

{% endtest %}
