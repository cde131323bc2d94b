{#-
    Post-hooks of the shared-data models (migration 0008 holds the functions):
    - institution_row_level_security(): row-level security by institution on a mart that carries institution_id,
      re-applied every time dbt rebuilds the table, in the same transaction;
    - share_with_consortium(): lets the consortium role read a shared mart (and nothing else).
-#}
{% macro institution_row_level_security() -%}
    select warning.apply_institution_rls('{{ this.include(database=False) }}')
{%- endmacro %}

{% macro share_with_consortium() -%}
    select warning.share_with_consortium('{{ this.include(database=False) }}')
{%- endmacro %}

{#-
    k of the consortium's k-anonymity threshold: an aggregate cell is published only when at least k distinct
    borrowers stand behind it. var('consortium_min_cell_borrowers'), default 5; below 2 it would protect nobody.
-#}
{% macro consortium_min_cell_borrowers() -%}
    {%- set k = var('consortium_min_cell_borrowers', 5) | int -%}
    {%- if k < 2 -%}
        {{ exceptions.raise_compiler_error(
            'consortium_min_cell_borrowers must be an integer >= 2, got ' ~ var('consortium_min_cell_borrowers', 5)
        ) }}
    {%- endif -%}
    {{ return(k) }}
{%- endmacro %}
