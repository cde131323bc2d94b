with

source as (

    select * from {{ source('audit', 'batches') }}

),

renamed as (

    select

        ----------  ids
        batch_id,
        source as source_name,

        ----------  text
        file_name,
        file_checksum,
        status,

        ----------  numerics
        row_count,

        ----------  dates
        business_date,

        ----------  timestamps
        loaded_at,
        validated_at

    from source

)

select * from renamed
