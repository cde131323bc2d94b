with

events as (

    select * from {{ ref('int_access_events_sessionized') }}

),

user_ips as (

    -- An IP is new for a user on the first day that user is seen with it (any user's earlier use does not count).
    select
        user_id,
        client_ip,
        client_network,
        min(event_at) as first_seen_at,
        min(event_date) as first_seen_date,
        max(event_date) as last_seen_date,
        count(*) as events_count,
        count(distinct event_date) as active_days_count

    from events

    group by
        user_id,
        client_ip,
        client_network

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
