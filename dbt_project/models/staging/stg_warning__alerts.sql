with

source as (

    select * from {{ source('warning', 'alerts') }}

),

renamed as (

    select

        ----------  ids
        alert_id,
        model_run_id,

        ----------  text
        domain,
        entity_type,
        entity_id,
        indicator,
        severity,
        explanation,

        ----------  numerics
        value,
        threshold,

        ----------  dates
        as_of_date,

        ----------  timestamps
        created_at

    from source

)

select * from renamed
