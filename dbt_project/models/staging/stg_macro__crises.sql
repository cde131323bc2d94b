with

source as (

    select * from {{ source('raw', 'macro_crises') }}

),

renamed as (

    select

        ----------  ids
        {{ surrogate_key(['economy_code', 'crisis_start_date']) }} as crisis_key,
        economy_code,

        ----------  dates
        crisis_start_date,
        crisis_end_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('macro_crises') }}

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

    -- A later publication of the same crisis (typically with its end date filled in) replaces the earlier one.
    {{ keep_latest_version('passed_rows', ['economy_code', 'crisis_start_date']) }}

)

select * from latest_versions
