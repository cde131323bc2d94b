{{
    config(
        materialized='table',
        pre_hook="{{ require_key_setting('ews.pseudonym_key', 'EWS_PSEUDONYM_KEY') }}",
    )
}}

-- The national id (PII) stops here: only its keyed pseudonyms go on. A table, not a view: the pseudonyms are
-- computed once, in dbt's session that holds the keys (macros/keyed_pseudonym.sql), and no view ever reads them.
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
        {{ keyed_pseudonym('national_id', 'ews.pseudonym_key') }} as person_key,
        -- no consortium key set: null, and the borrower is not shared
        {{ keyed_pseudonym('national_id', 'ews.consortium_key') }} as consortium_borrower_key,
        batch_id,
        source_line,
        loaded_business_date

    from latest_versions

)

select * from pseudonymised
