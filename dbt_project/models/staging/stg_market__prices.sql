with

source as (

    select * from {{ source('raw', 'market_prices') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['instrument_id', 'price_date']) }} as instrument_day_key,
        instrument_id,

        ----------  numerics
        close_price,

        ----------  dates
        price_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('market_prices') }}

),

passed_rows as (

    -- No de-duplication: the gate holds price_date to the batch's business date and keeps keys unique within
    -- a batch, and only one batch per day can pass, so (instrument_id, price_date) is already unique.
    select
        renamed.*,
        passed_batches.loaded_business_date

    from renamed

    inner join passed_batches
        on renamed.batch_id = passed_batches.batch_id

)

select * from passed_rows
