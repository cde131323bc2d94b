with

source as (

    select * from {{ source('raw', 'borrowers') }}

),

renamed as (

    -- full_name, national_id and birth_date (PII) stop here: only the birth year goes on.
    select

        ----------  ids
        borrower_id,
        institution_id,

        ----------  text
        region,
        segment,

        ----------  numerics
        annual_income_amount,
        cast(extract(year from birth_date) as integer) as birth_year,

        ----------  dates
        onboarded_date,

        ----------  lineage
        batch_id,
        source_line

    from source

),

passed_batches as (

    {{ passed_batches('borrowers') }}

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

    {{ keep_latest_version('passed_rows', ['borrower_id']) }}

)

select * from latest_versions
