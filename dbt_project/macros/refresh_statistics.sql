{#-
    Planner statistics of a model's table, refreshed in its own transaction when the build changed a tenth of it
    or more (or was never analysed: a table model is created anew each build), the rule autovacuum applies. A daily build of
    a long history changes a small share of an incremental table, so it is analysed only now and then; a server
    with autovacuum off (or slow to reach the table) still plans the next models and the indicators with real row
    counts. The counts of this transaction are in pg_stat_xact_user_tables until it commits.
-#}
{% macro refresh_statistics() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
    do $refresh_statistics$
    begin
        if (
            select
                coalesce(s.last_analyze, s.last_autoanalyze) is null
                or coalesce(s.n_mod_since_analyze, 0)
                + coalesce(x.n_tup_ins + x.n_tup_upd + x.n_tup_del, 0) >= 0.1 * greatest(c.reltuples, 0) + 50
            from pg_class as c
            left join pg_stat_user_tables as s on c.oid = s.relid
            left join pg_stat_xact_user_tables as x on c.oid = x.relid
            where c.oid = '{{ this }}'::regclass
        ) then
            analyze {{ this }};
        end if;
    end
    $refresh_statistics$
    {%- endif -%}
{%- endmacro %}
