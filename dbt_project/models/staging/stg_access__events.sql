with

source as (

    select * from {{ source('raw', 'access_events') }}

),

renamed as (

    select

        ----------  ids
        event_id,
        user_id,

        ----------  text
        client_ip,
        action,
        nullif(object_name, '') as object_name,

        ----------  numerics
        rows_read,
        cast(extract(hour from event_at at time zone 'UTC') as integer) as event_hour,

        ----------  dates
        cast(event_at at time zone 'UTC' as date) as event_date,

        ----------  timestamps
        event_at,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('access_events') }}

),

passed_rows as (

    -- No de-duplication: an event happens once, inside its batch's business day (held by the gate);
    -- an event_id delivered on two days is an upstream error for the unique test to report.
    select
        renamed.*,
        passed_batches.loaded_business_date

    from renamed

    inner join passed_batches
        on renamed.batch_id = passed_batches.batch_id

)

select * from passed_rows
