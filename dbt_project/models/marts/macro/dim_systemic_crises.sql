with

crises as (

    select * from {{ ref('stg_macro__crises') }}

),

final as (

    select
        crisis_key,
        economy_code,
        crisis_start_date,
        crisis_end_date,
        crisis_end_date is null as is_ongoing,
        case
            when crisis_end_date is not null
                then cast(
                    (extract(year from crisis_end_date) * 4 + extract(quarter from crisis_end_date))
                    - (extract(year from crisis_start_date) * 4 + extract(quarter from crisis_start_date)) + 1
                    as integer
                )
        end as crisis_quarters_count,
        loaded_business_date as published_date

    from crises

)

select * from final
