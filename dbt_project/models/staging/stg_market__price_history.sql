with

source as (

    select * from {{ source('raw', 'market_price_history') }}

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

    {{ passed_batches('market_price_history') }}

),

passed_rows as (

    select
        renamed.*,
        passed_batches.loaded_business_date

    from renamed

    inner join passed_batches
        on renamed.batch_id = passed_batches.batch_id

),

latest_versions as (

    -- History delivered again (a re-sent or revised extract) replaces the earlier close of the same day.
    {{ keep_latest_version('passed_rows', ['instrument_id', 'price_date']) }}

)

select * from latest_versions
