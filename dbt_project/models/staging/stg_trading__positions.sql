with

source as (

    select * from {{ source('raw', 'portfolio_positions') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['portfolio_id', 'instrument_id', 'position_date']) }} as position_key,
        portfolio_id,
        instrument_id,

        ----------  numerics
        quantity,

        ----------  dates
        position_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('portfolio_positions') }}

),

passed_rows as (

    -- The gate holds position_date to the business date and keeps the key unique within a batch, and one
    -- batch per day passes: the key is already unique.
    select
        renamed.*,
        passed_batches.loaded_business_date

    from renamed

    inner join passed_batches
        on renamed.batch_id = passed_batches.batch_id

)

select * from passed_rows
