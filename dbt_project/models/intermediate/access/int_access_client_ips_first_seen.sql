{#-
    Incremental (macros/incremental_batches.sql): appending days, the IPs seen on them fold into their stored rows
    (first day kept, last day and counts moved on); a correction sums every IP up again from
    int_access_user_ip_days (a row per user, IP and day: a small table next to the events).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['user_ip_key'],
    batch_sources=['access_events'],
    batches_from='int_access_user_ip_days',
    date_column='last_seen_date',
    rebuild='from_earliest',
    on_schema_change='fail',
    indexes=[{'columns': ['user_ip_key'], 'unique': true}, {'columns': ['last_seen_date']}],
) }}

with

ip_days as (

    {% if is_incremental() -%}
    -- the days appended, or every day for a correction (two branches: the one not taken never runs)
    select * from {{ ref('int_access_user_ip_days') }}
    where activity_date = any(array{{ planned_dates() }}) and not {{ is_correction() }}
    union all
    select * from {{ ref('int_access_user_ip_days') }}
    where {{ is_correction() }}
    {%- else -%}
    select * from {{ ref('int_access_user_ip_days') }}
    {%- endif %}

),

user_ips_seen as (

    -- An IP is new for a user on the first day that user is seen with it (any user's earlier use does not count).
    select
        user_id,
        client_ip,
        client_network,
        min(first_event_at) as first_seen_at,
        min(activity_date) as first_seen_date,
        max(activity_date) as last_seen_date,
        cast(sum(events_count) as bigint) as events_count,
        count(*) as active_days_count

    from ip_days

    group by
        user_id,
        client_ip,
        client_network

),

{% if is_incremental() %}

user_ips as (

    -- Appending: the days add to the stored row of the same user and IP (their dates are all later).
    select
        seen.user_id,
        seen.client_ip,
        seen.client_network,
        coalesce(stored.first_seen_at, seen.first_seen_at) as first_seen_at,
        coalesce(stored.first_seen_date, seen.first_seen_date) as first_seen_date,
        seen.last_seen_date,
        coalesce(stored.events_count, 0) + seen.events_count as events_count,
        coalesce(stored.active_days_count, 0) + seen.active_days_count as active_days_count

    from user_ips_seen as seen

    left join {{ this }} as stored
        on
            stored.user_id = seen.user_id
            and stored.client_ip = seen.client_ip
            and not {{ is_correction() }}

),

user_networks as (

    -- A network's first day for the user: over its stored IPs and the ones seen now.
    select
        user_id,
        client_network,
        min(first_seen_date) as network_first_seen_date

    from (
        select user_id, client_network, first_seen_date from user_ips
        union all
        select stored.user_id, stored.client_network, stored.first_seen_date
        from {{ this }} as stored
        where
            not {{ is_correction() }}
            and (stored.user_id, stored.client_network) in (select user_id, client_network from user_ips)
    ) as network_ips

    group by
        user_id,
        client_network

),

{% else %}

user_ips as (

    select * from user_ips_seen

),

user_networks as (

    select
        user_id,
        client_network,
        min(first_seen_date) as network_first_seen_date

    from user_ips

    group by
        user_id,
        client_network

),

{% endif %}

joined as (

    select
        {{ surrogate_key(['user_ips.user_id', 'user_ips.client_ip']) }} as user_ip_key,
        user_ips.user_id,
        user_ips.client_ip,
        user_ips.client_network,
        user_ips.first_seen_at,
        user_ips.first_seen_date,
        user_ips.last_seen_date,
        user_networks.network_first_seen_date,
        -- the IP brought a network the user had never been seen on before
        user_ips.first_seen_date = user_networks.network_first_seen_date as is_network_first_seen,
        user_ips.events_count,
        user_ips.active_days_count

    from user_ips

    inner join user_networks
        on
            user_ips.user_id = user_networks.user_id
            and user_ips.client_network = user_networks.client_network

)

select * from joined
