{#-
    Post-hook of fct_loan_days: a loan or borrower delivered again (a revised record: the same key in a later
    passed batch) changes the attributes of the loan on every day it has, not only on the days a run rebuilds.

    The run's plan (macros/incremental_batches.sql) names the loans and borrowers batches it builds from; a loan
    is revised when one of them holds it (or its borrower) and an earlier passed batch held it too. New loans, the
    daily case, have no earlier version and cost nothing. When loans were revised, their rows take the attributes
    of int_loans_joined_to_borrowers, and a revision record (source 'loans', dated on the first revised day)
    joins the model's batches: the models built on fct_loan_days (batches_from) rebuild from that day on.
-#}
{% macro patch_revised_loans() -%}
    {%- set plan = 'ews_plan__' ~ this.identifier -%}
    {%- set attributes = [
        'borrower_id', 'product', 'segment', 'region', 'institution_id', 'origination_date', 'principal_amount',
        'interest_rate_pct'
    ] -%}
    do $patch$
    declare
        first_revised_date date;
    begin
        create temporary table ews_revised_loans on commit drop as
        with planned as (
            select batch_id, source, business_date from {{ plan }} where change = 'new' and not is_full_build
        )
        select revised.loan_id
        from raw.loans as revised
        inner join planned on planned.batch_id = revised.batch_id and planned.source = 'loans'
        where exists (
            select from raw.loans as earlier
            inner join audit.batches as earlier_batch on earlier_batch.batch_id = earlier.batch_id
            where
                earlier.loan_id = revised.loan_id
                and earlier_batch.status = 'passed'
                and earlier_batch.business_date < planned.business_date
        )
        union
        select loans.loan_id
        from raw.borrowers as revised
        inner join planned on planned.batch_id = revised.batch_id and planned.source = 'borrowers'
        inner join {{ ref('int_loans_joined_to_borrowers') }} as loans on loans.borrower_id = revised.borrower_id
        where exists (
            select from raw.borrowers as earlier
            inner join audit.batches as earlier_batch on earlier_batch.batch_id = earlier.batch_id
            where
                earlier.borrower_id = revised.borrower_id
                and earlier_batch.status = 'passed'
                and earlier_batch.business_date < planned.business_date
        );

        if not exists (select from ews_revised_loans) then
            return;
        end if;

        update {{ this }} as loan_days
        set
            {% for column in attributes -%}
            {{ column }} = loans.{{ column }},
            {% endfor -%}
            months_on_book = {{ months_between('loans.origination_date', 'loan_days.performance_date') }}
        from {{ ref('int_loans_joined_to_borrowers') }} as loans
        where
            loan_days.loan_id = loans.loan_id
            and loans.loan_id in (select revised.loan_id from ews_revised_loans as revised)
            and ({% for column in attributes %}loan_days.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
            is distinct from
            ({% for column in attributes %}loans.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %});

        select min(loan_days.performance_date) into first_revised_date
        from {{ this }} as loan_days
        where loan_days.loan_id in (select revised.loan_id from ews_revised_loans as revised);

        if first_revised_date is not null then
            insert into audit.model_batches (model_name, batch_id, source, business_date)
            values ('{{ this.identifier }}', 'revised:' || txid_current(), 'loans', first_revised_date);
        end if;
    end
    $patch$
{%- endmacro %}
