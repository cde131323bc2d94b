with

client_ips as (

    select * from {{ ref('int_access_client_ips_first_seen') }}

),

final as (

    select
        user_ip_key,
        user_id,
        client_ip,
        client_network,
        first_seen_at,
        first_seen_date,
        last_seen_date,
        network_first_seen_date,
        is_network_first_seen,
        events_count,
        active_days_count

    from client_ips

)

select * from final
