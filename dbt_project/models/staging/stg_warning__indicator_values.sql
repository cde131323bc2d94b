with

source as (

    select * from {{ source('warning', 'indicator_values') }}

),

renamed as (

    select

        ----------  ids
        model_run_id,

        ----------  text
        domain,
        indicator,
        entity_type,
        entity_id,

        ----------  numerics
        value,
        threshold,

        ----------  dates
        as_of_date

    from source

)

select * from renamed
