with

source as (

    select * from {{ source('raw', 'macro_series') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['series_id', 'period_end_date']) }} as series_period_key,
        series_id,
        split_part(series_id, '.', 1) as economy_code,
        substr(series_id, strpos(series_id, '.') + 1) as measure,

        ----------  numerics
        value as value_amount,

        ----------  dates
        period_end_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('macro_series') }}

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

    -- A later publication of the same quarter (a revision) replaces the earlier figure.
    {{ keep_latest_version('passed_rows', ['series_id', 'period_end_date']) }}

)

select * from latest_versions
