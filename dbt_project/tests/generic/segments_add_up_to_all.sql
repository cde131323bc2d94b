{#-
    The whole-book rows (segment 'all') equal the sum of the segment rows, measure by measure, for every value
    of the other grain columns (group_by); a group present on one side only fails too. Measures compare within
    var amount_tolerance, so use it for additive counts and amounts, not for ratios.
-#}
{% test segments_add_up_to_all(model, group_by, measures, segment_column='segment', all_segment='all') %}

with

segments as (

    select
        {% for column in group_by %}{{ column }},{% endfor %}
        {% for measure in measures %}
        sum({{ measure }}) as {{ measure }},
        {% endfor %}
        true as has_segments

    from {{ model }}

    where {{ segment_column }} <> '{{ all_segment }}'

    group by {{ group_by | join(', ') }}

),

whole_book as (

    select
        {% for column in group_by %}{{ column }},{% endfor %}
        {% for measure in measures %}
        {{ measure }},
        {% endfor %}
        true as has_whole_book

    from {{ model }}

    where {{ segment_column }} = '{{ all_segment }}'

)

select
    {% for column in group_by %}{{ column }},{% endfor %}
    {% for measure in measures %}
    segments.{{ measure }} as segments_{{ measure }},
    whole_book.{{ measure }} as whole_book_{{ measure }},
    {% endfor %}
    segments.has_segments,
    whole_book.has_whole_book

from segments

full outer join whole_book
    using ({{ group_by | join(', ') }})

where
    segments.has_segments is null
    or whole_book.has_whole_book is null
    {% for measure in measures %}
    or abs(segments.{{ measure }} - whole_book.{{ measure }}) > {{ var('amount_tolerance') }}
    {% endfor %}

{% endtest %}
