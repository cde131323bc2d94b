{#-
    Incremental models driven by the batches the quality gate passed: a daily run costs what the day costs.

    An incremental model names, in its config, the landing sources whose batches make its rows and the column that
    holds a row's business date:

        materialized='incremental', incremental_strategy='replace_dates',
        batch_sources=['loan_performance', 'repayments'], date_column='performance_date',
        rebuild='dates'            (default) rebuild the business dates whose batches changed
              | 'from_earliest'    rebuild every date from the earliest changed one on (rows carry state from
                                   the days before, e.g. sessions running past midnight)
        date_grain='day' | 'month' (default day) what date_column holds: the business date, or its month
        batches_from='<model>'     (a model built on another incremental model) the batches that model has
                                   built from, instead of the gate's passed batches: never ahead of its input
        full_rebuild_sources=[...] sources whose batches hold many business dates (a price history): a plan
                                   holding one of their batches rebuilds every date

    and, under is_incremental(), reads only `{{ planned_dates() }}` (or from `{{ planned_start() }}` on). Every
    run (dbt_project.yml hooks):
    - plan_batches() (pre-hook, in the model's transaction) writes the plan, a temporary table of the batches the
      model has not built from yet and of the batches it built from that are gone (a correction superseded
      them); a full build plans every batch;
    - the replace_dates strategy deletes the planned dates and inserts the rebuilt rows;
    - record_batches() (post-hook, same transaction) records the plan in audit.model_batches (migration 0011).
    A batch that passes while the model builds is not in the plan: the next run picks it up. Rerunning changes
    nothing; a replayed or released day is rebuilt, whatever its date.
-#}

{#- The batches the model may build from: passed by the gate, or built into its upstream model. -#}
{% macro _available_batches() -%}
    {%- if config.get('batches_from') -%}
    select batch_id, source, business_date
    from audit.model_batches
    where model_name = '{{ config.get('batches_from') }}' and source in ({{ _batch_sources_list() }})
    {%- else -%}
    select batch_id, source, business_date
    from audit.batches
    where status = 'passed' and source in ({{ _batch_sources_list() }})
    {%- endif -%}
{%- endmacro %}

{% macro _plan_table() -%}
    ews_plan__{{ this.identifier }}
{%- endmacro %}

{% macro _batch_sources_list() -%}
    {{ _sources_list(config.get('batch_sources')) }}
{%- endmacro %}

{% macro _sources_list(sources) -%}
    {%- for source in sources -%}'{{ source }}'{%- if not loop.last %}, {% endif -%}{%- endfor -%}
{%- endmacro %}

{% macro plan_batches() -%}
    {%- if config.get('batch_sources') and config.get('materialized') == 'incremental' -%}
    {#- one build of a model at a time (dbt runs, Airflow retries, a recompute next to a daily run) -#}
    select pg_advisory_xact_lock(hashtext('ews dbt model {{ this.identifier }}'));
    drop table if exists {{ _plan_table() }};
    create temporary table {{ _plan_table() }} on commit drop as
    with passed as (
        {{ _available_batches() }}
    ),

    consumed as (
        select batch_id, source, business_date
        from audit.model_batches
        where model_name = '{{ this.identifier }}'
    )

    {% if is_incremental() -%}
    select passed.*, 'new' as change, false as is_full_build
    from passed
    where not exists (select from consumed where consumed.batch_id = passed.batch_id)
    union all
    select consumed.*, 'gone' as change, false as is_full_build
    from consumed
    where not exists (select from passed where passed.batch_id = consumed.batch_id)
    {%- else -%}
    {#- a full build: every passed batch, and forget what was recorded before -#}
    select passed.*, 'new' as change, true as is_full_build from passed
    union all
    select consumed.*, 'gone' as change, true as is_full_build from consumed
    {%- endif %};
    analyze {{ _plan_table() }}
    {%- endif -%}
{%- endmacro %}

{#- The business dates the run rebuilds (a subquery), as the model's config asks; months for date_grain month. -#}
{% macro planned_dates(grain=none) -%}
    {%- set grain = grain or config.get('date_grain', 'day') -%}
    {%- if config.get('rebuild', 'dates') == 'from_earliest' -%}
    (
        select distinct {{ _in_grain('available.business_date', grain) }}
        from ({{ _available_batches() }}) as available
        where available.business_date >= (select min(plan.business_date) from {{ _plan_table() }} as plan)
        union
        select {{ _in_grain('plan.business_date', grain) }} from {{ _plan_table() }} as plan
    )
    {%- else -%}
    (select distinct {{ _in_grain('plan.business_date', grain) }} from {{ _plan_table() }} as plan)
    {%- endif -%}
{%- endmacro %}

{#-
    The first business date the run rebuilds (the first day of its month for date_grain month); null: none. A
    model whose config names full_rebuild_sources (sources whose batches hold many dates, e.g. a price history)
    rebuilds everything when the plan holds one of their batches.
-#}
{% macro planned_start(grain=none) -%}
    {%- set start = _in_grain('min(plan.business_date)', grain or config.get('date_grain', 'day')) -%}
    {%- if config.get('full_rebuild_sources') -%}
    (
        select case when bool_or(plan.source in ({{ _sources_list(config.get('full_rebuild_sources')) }}))
            then date '0001-01-01' else {{ start }} end
        from {{ _plan_table() }} as plan
    )
    {%- else -%}
    (select {{ start }} from {{ _plan_table() }} as plan)
    {%- endif -%}
{%- endmacro %}

{#-
    `column >= planned_start()` (minus `days_before`), written so that the planner counts the rows of the dates
    rebuilt, not a third of the history. The start is read when the query runs, so the planner cannot know it: a
    lower bound alone it takes for a third of the table (and scans the whole history); with an upper bound beside it
    for a narrow range (PostgreSQL's DEFAULT_RANGE_INEQ_SEL, 0.5 % of the rows), read by the column's index.
-#}
{% macro from_planned_start(column, grain=none, days_before=0) -%}
    ({{ column }} >= {{ planned_start(grain) }}{% if days_before %} - {{ days_before }}{% endif %} and {{ column }} <= date '9999-12-31')
{%- endmacro %}

{% macro _in_grain(expression, grain) -%}
    {%- if grain == 'month' -%}cast(date_trunc('month', {{ expression }}) as date){%- else -%}{{ expression }}{%- endif -%}
{%- endmacro %}

{% macro record_batches() -%}
    {%- if config.get('batch_sources') and config.get('materialized') == 'incremental' -%}
    delete from audit.model_batches
    where
        model_name = '{{ this.identifier }}'
        and batch_id in (select plan.batch_id from {{ _plan_table() }} as plan where plan.change = 'gone');
    insert into audit.model_batches (model_name, batch_id, source, business_date)
    select '{{ this.identifier }}', plan.batch_id, plan.source, plan.business_date
    from {{ _plan_table() }} as plan
    where plan.change = 'new'
    on conflict (model_name, batch_id) do update set consumed_at = excluded.consumed_at
    {%- endif -%}
{%- endmacro %}

{#-
    The replace_dates strategy: delete the target's rows of the planned dates (every row from the earliest on, for
    rebuild from_earliest), insert the new ones. The delete reads the dates into an array (or a start date, as
    from_planned_start) first, so it is an index scan of the date column, not a scan of the history.
-#}
{% macro get_incremental_replace_dates_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- set date_column = config.get('date_column') -%}
    {%- if not date_column -%}
        {{ exceptions.raise_compiler_error('replace_dates needs the config date_column (' ~ this ~ ')') }}
    {%- endif -%}
    delete from {{ target }}
    {% if config.get('rebuild', 'dates') == 'from_earliest' -%}
    where {{ from_planned_start(date_column) }};
    {%- elif config.get('date_grain', 'day') == 'month' -%}
    where cast(date_trunc('month', {{ date_column }}) as date) = any(array{{ planned_dates() }});
    {%- else -%}
    where {{ date_column }} = any(array{{ planned_dates() }});
    {%- endif %}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ temp }}
{%- endmacro %}

{#-
    The replace_keys strategy, for models keyed by something else than a date that fold new days into stored rows:
    a correction (the plan starts at or before the latest date_column built) first deletes the rows from the
    plan's start on; then the rows of the keys rebuilt are replaced.
-#}
{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {% if config.get('date_column') -%}
    delete from {{ target }}
    where
        {{ from_planned_start(config.get('date_column')) }}
        and {{ planned_start() }} <= {{ latest_built_date() }};
    {% endif -%}
    delete from {{ target }} as stored
    using {{ temp }} as rebuilt
    where {% for key in keys %}stored.{{ key }} = rebuilt.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ temp }}
{%- endmacro %}

{#-
    Whether the run corrects dates already built (a replay, a release, a revised loan) rather than appending new
    ones: the plan starts at or before the latest business date the model built from.
-#}
{% macro is_correction() -%}
    (
        {{ planned_start(grain='day') }} <= (
            select coalesce(max(built.business_date), date '0001-01-01')
            from audit.model_batches as built
            where built.model_name = '{{ this.identifier }}'
        )
    )
{%- endmacro %}

{#- The latest date_column value the model holds (its index answers), or the start of time when it is empty. -#}
{% macro latest_built_date() -%}
    (select coalesce(max(built.{{ config.get('date_column') }}), date '0001-01-01') from {{ this }} as built)
{%- endmacro %}

{#-
    The business dates the latest build of an incremental model built from (read when the test compiles, so the
    planner sees literal dates and estimates their rows from its statistics).
-#}
{% macro _latest_build_batches(model_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select distinct built.business_date, built.source
        from audit.model_batches as built
        where
            built.model_name = '{{ model_name }}'
            and built.consumed_at = (
                select max(latest.consumed_at) from audit.model_batches as latest
                where latest.model_name = '{{ model_name }}'
            )
        order by 1, 2
    {%- endset -%}
    {{ return(run_query(query).rows | list) }}
{%- endmacro %}

{% macro _latest_build_dates_list(model_name) -%}
    {%- set dates = [] -%}
    {%- for batch in _latest_build_batches(model_name) if batch[0] not in dates -%}
        {%- do dates.append(batch[0]) -%}
    {%- endfor -%}
    {{ return(dates) }}
{%- endmacro %}

{#-
    What the latest build of an incremental model wrote (a condition on its date column): its tests check those
    rows, not the whole history again. A full build records every date, so its tests check everything.
-#}
{% macro latest_build_dates(model_name, date_column, grain='day') -%}
    {%- set dates = [] -%}
    {%- for day in _latest_build_dates_list(model_name) -%}
        {%- set value = day.replace(day=1) if grain == 'month' else day -%}
        {%- if value not in dates -%}{%- do dates.append(value) -%}{%- endif -%}
    {%- endfor -%}
    {%- if dates -%}
        {{ date_column }} in ({%- for day in dates -%}date '{{ day }}'{%- if not loop.last %}, {% endif -%}{%- endfor -%})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#-
    The first business date (or month) of the latest build of an incremental model, as a literal; with
    include_previous, the business date (month) before it, for tests that compare a row with the one before.
-#}
{% macro latest_build_start(model_name, grain='day', include_previous=false) -%}
    {%- set dates = _latest_build_dates_list(model_name) -%}
    {%- if not dates -%}
        {{ return("date '9999-12-31'") }}
    {%- endif -%}
    {%- set first = dates[0] -%}
    {%- if grain == 'month' -%}
        {%- set first = first.replace(day=1) -%}
        {%- if include_previous -%}
            {%- set first = (first - modules.datetime.timedelta(days=1)).replace(day=1) -%}
        {%- endif -%}
    {%- elif include_previous -%}
        {%- set query -%}
            select max(earlier.business_date) from audit.model_batches as earlier
            where earlier.model_name = '{{ model_name }}' and earlier.business_date < date '{{ first }}'
        {%- endset -%}
        {%- set previous = run_query(query).columns[0].values()[0] -%}
        {%- set first = previous or first -%}
    {%- endif -%}
    date '{{ first }}'
{%- endmacro %}

{#-
    Generic tests check what the latest build changed, not the whole history again; a test's own `where` still
    applies:
    - on an incremental model with full_rebuild_sources: the rows from the first date its latest build rebuilt,
      every row after a build from one of those sources (its batches hold many dates);
    - on an incremental model (date_column in its config): the rows of the dates its latest build wrote;
    - on a view over history, with config test_scope:
        {latest_build_of: <incremental model>, date_column: <its column>}  the dates that model's latest build read
        {latest_of: <schema.table.column>, date_column: <its column>}      the rows from the latest value of that
                                                                           column on (e.g. the latest scored day)
    Other relations are tested whole, as dbt does.
-#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- if execute and relation.identifier -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.alias == relation.identifier
                and node.schema == relation.schema -%}
            {%- set scope = node.config.get('test_scope') -%}
            {%- if node.config.get('full_rebuild_sources') and node.config.materialized == 'incremental' -%}
                {#- dates from the first one rebuilt; after a full rebuild, every row -#}
                {%- set built = _latest_build_batches(node.alias) -%}
                {%- set sources = node.config.get('full_rebuild_sources') -%}
                {%- if built and not (built | selectattr(1, 'in', sources) | list) -%}
                    {%- do conditions.append(node.config.get('date_column') ~ " >= date '" ~ built[0][0] ~ "'") -%}
                {%- elif not built -%}
                    {%- do conditions.append('false') -%}
                {%- endif -%}
            {%- elif node.config.materialized == 'incremental' and node.config.get('date_column') -%}
                {%- do conditions.append(latest_build_dates(
                    node.alias, node.config.get('date_column'), node.config.get('date_grain', 'day')
                )) -%}
            {%- elif scope and scope.get('latest_build_of') -%}
                {%- do conditions.append(latest_build_dates(
                    scope['latest_build_of'], scope['date_column'], scope.get('grain', 'day')
                )) -%}
            {%- elif scope and scope.get('latest_of') -%}
                {%- set parts = scope['latest_of'].split('.') -%}
                {%- do conditions.append(
                    scope['date_column'] ~ ' >= (select max(' ~ parts[2] ~ ') from ' ~ parts[0] ~ '.' ~ parts[1] ~ ')'
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
