{#-
    Incremental (macros/incremental_batches.sql), two ways:
    - appending (every rebuilt date is after the last one built, the daily case): the new days are aggregated
      per loan and months on book and folded into the stored row of the same key (default is sticky, the balance
      is the latest day's), so a run reads the day's loan days only;
    - a correction (a rebuilt date at or before the last one built: a replay, a release, a revised loan): every
      key with a day on or after the earliest rebuilt date is aggregated again from its loan days (a months-on-book
      spell lasts at most 31 days, so they are read from 31 days before).
    is_first_observed / is_first_default mark the loan's first months on book in the data and the first at which
    it was 90+: the vintages count loans and new defaults by them.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['loan_id', 'months_on_book'],
    batch_sources=['loan_performance', 'repayments', 'loans', 'borrowers'],
    batches_from='fct_loan_days',
    date_column='last_performance_date',
    rebuild='from_earliest',
    on_schema_change='fail',
    indexes=[
        {'columns': ['loan_id', 'months_on_book'], 'unique': true},
        {'columns': ['last_performance_date']},
        {'columns': ['origination_month_start_date', 'months_on_book']},
    ],
) }}

{%- set appending %}
    ({{ planned_start() }} > {{ latest_built_date() }})
{%- endset %}

with

loan_days as (

    {% if is_incremental() -%}
    -- two branches, each an index scan of the dates, the other one switched off before it runs
    select * from {{ ref('fct_loan_days') }}
    where performance_date = any(array{{ planned_dates() }}) and {{ appending }}
    union all
    select * from {{ ref('fct_loan_days') }}
    where {{ from_planned_start('performance_date', days_before=31) }} and not {{ appending }}
    {%- else -%}
    select * from {{ ref('fct_loan_days') }}
    {%- endif %}

),

aggregated_to_months_on_book as (

    select
        loan_id,
        months_on_book,
        min(origination_date) as origination_date,
        min(segment) as segment,
        min(principal_amount) as principal_amount,
        bool_or(is_default) as is_default,
        (array_agg(balance_amount order by performance_date desc))[1] as balance_amount,
        min(performance_date) as first_performance_date,
        max(performance_date) as last_performance_date

    from loan_days

    group by
        loan_id,
        months_on_book

),

{% if is_incremental() %}

folded as (

    -- Appending: the stored spell of the same key goes on with the new days.
    select
        new.loan_id,
        new.months_on_book,
        least(stored.origination_date, new.origination_date) as origination_date,
        least(stored.segment, new.segment) as segment,
        least(stored.principal_amount, new.principal_amount) as principal_amount,
        coalesce(stored.is_default, false) or new.is_default as is_default,
        new.balance_amount,
        coalesce(stored.first_performance_date, new.first_performance_date) as first_performance_date,
        new.last_performance_date,
        stored.is_first_observed as stored_is_first_observed,
        stored.is_first_default as stored_is_first_default,
        stored.is_default as stored_is_default

    from aggregated_to_months_on_book as new

    -- the stored spells that can go on: a months-on-book spell lasts at most 31 days
    left join (
        select * from {{ this }} where {{ from_planned_start('last_performance_date', days_before=31) }}
    ) as stored
        on
            new.loan_id = stored.loan_id
            and new.months_on_book = stored.months_on_book
            and {{ appending }}

    -- A correction keeps the spells that end before the earliest rebuilt date as stored.
    where {{ appending }} or new.last_performance_date >= {{ planned_start() }}

),

flagged as (

    select
        folded.loan_id,
        folded.months_on_book,
        folded.origination_date,
        folded.segment,
        folded.principal_amount,
        folded.is_default,
        folded.balance_amount,
        folded.first_performance_date,
        folded.last_performance_date,
        coalesce(
            folded.stored_is_first_observed,
            not exists (
                select from {{ this }} as earlier
                where
                    earlier.loan_id = folded.loan_id
                    and earlier.months_on_book < folded.months_on_book
                    and (
                        {{ appending }} or earlier.last_performance_date < {{ planned_start() }}
                    )
            )
            and folded.months_on_book = min(folded.months_on_book) over (partition by folded.loan_id)
        ) as is_first_observed,
        case
            when folded.stored_is_first_default then true
            when not folded.is_default or coalesce(folded.stored_is_default, false) then false
            else
                not exists (
                    select from {{ this }} as earlier
                    where
                        earlier.loan_id = folded.loan_id
                        and earlier.months_on_book < folded.months_on_book
                        and earlier.is_default
                        and (
                            {{ appending }} or earlier.last_performance_date < {{ planned_start() }}
                        )
                )
                and folded.months_on_book = min(folded.months_on_book) filter (where folded.is_default)
                over (partition by folded.loan_id)
        end as is_first_default

    from folded

)

{% else %}

flagged as (

    select
        *,
        months_on_book = min(months_on_book) over by_loan as is_first_observed,
        is_default and months_on_book = min(months_on_book) filter (where is_default) over by_loan
            as is_first_default

    from aggregated_to_months_on_book

    window by_loan as (partition by loan_id)

)

{% endif %}

select
    {{ surrogate_key(['loan_id', 'months_on_book']) }} as loan_month_on_book_key,
    loan_id,
    months_on_book,
    cast(date_trunc('month', origination_date) as date) as origination_month_start_date,
    origination_date,
    segment,
    principal_amount,
    is_default,
    balance_amount,
    first_performance_date,
    last_performance_date,
    is_first_observed,
    is_first_default

from flagged
