{{
    config(
        materialized='table',
        pre_hook="{{ consortium_key_setting() }}",
    )
}}

-- The national id (PII) stops here too: only its consortium pseudonym goes on. A table, not a view, so the
-- pseudonyms are computed once with the key of this run and no view definition ever reads the key's setting.
with

source as (

    select * from {{ source('raw', 'borrowers') }}

),

renamed as (

    select

        ----------  ids
        borrower_id,
        institution_id,

        ----------  pii (stops here)
        national_id,

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

),

pseudonymised as (

    select
        borrower_id,
        institution_id,
        {{ consortium_pseudonym('national_id') }} as consortium_borrower_key,
        batch_id,
        source_line,
        loaded_business_date

    from latest_versions

),

final as (

    -- No consortium key set: no pseudonym, nothing is shared.
    select * from pseudonymised

    where consortium_borrower_key is not null

)

select * from final
