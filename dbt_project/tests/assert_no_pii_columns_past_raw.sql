-- Borrowers' PII (name, national id, birth date) never appears as a column of a dbt-built relation.
-- depends_on: {{ ref('stg_core__borrowers') }}
-- depends_on: {{ ref('int_loans_joined_to_borrowers') }}
-- depends_on: {{ ref('dim_loans') }}
-- depends_on: {{ ref('fct_loan_days') }}

select
    table_schema,
    table_name,
    column_name

from information_schema.columns

where
    table_catalog = '{{ target.database }}'
    and table_schema in ('staging', 'intermediate', 'marts', 'seeds')
    and column_name in ('full_name', 'national_id', 'birth_date')
