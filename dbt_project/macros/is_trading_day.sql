{#-
    The landing contract's trading calendar (warning_models/contract.py is_trading_day): weekdays except
    1 January, 25 and 26 December.
-#}
{% macro is_trading_day(date_expr) -%}
    (extract(isodow from {{ date_expr }}) < 6 and to_char({{ date_expr }}, 'MM-DD') not in ('01-01', '12-25', '12-26'))
{%- endmacro %}
