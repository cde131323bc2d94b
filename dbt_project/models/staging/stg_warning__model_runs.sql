with

source as (

    select * from {{ source('warning', 'model_runs') }}

),

renamed as (

    select

        ----------  ids
        model_run_id,

        ----------  text
        indicator,
        domain,
        model_class,
        data_hash,

        ----------  numerics
        n_obs as observations_count,

        ----------  json
        fit_stats,

        ----------  dates
        as_of_date,
        training_start as training_start_date,
        training_end as training_end_date,

        ----------  timestamps
        fitted_at

    from source

)

select * from renamed
