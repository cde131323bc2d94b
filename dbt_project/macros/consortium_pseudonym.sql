{#-
    The consortium pseudonym of a national id: HMAC-SHA256 (warning.hmac_sha256, migration 0008), hex-encoded, of the
    id normalised to upper-case letters and digits (spaces, dashes, dots dropped), keyed with the consortium's shared
    key. Every institution holding the key computes the same value for the same person; without the key it cannot
    be computed or inverted. Null when no key is set or the id has no letter or digit: that borrower is not shared.

    The key is never part of a model's SQL (compiled files, run results, view definitions): consortium_key_setting()
    runs as the model's pre-hook and puts it in a transaction-local setting that this expression reads.
-#}
{% macro consortium_pseudonym(national_id) -%}
    encode(
        warning.hmac_sha256(
            convert_to(nullif(upper(regexp_replace({{ national_id }}, '[^0-9A-Za-z]', '', 'g')), ''), 'UTF8'),
            convert_to(nullif(current_setting('ews.consortium_key', true), ''), 'UTF8')
        ),
        'hex'
    )
{%- endmacro %}

{#-
    Pre-hook of the model that computes pseudonyms: the consortium key from EWS_CONSORTIUM_KEY (at least 32
    characters; unset = nothing is shared) into the setting ews.consortium_key, for the model's transaction only.
    Read at execution only (never while parsing), so the key is not stored with dbt's partial-parse state.
-#}
{% macro consortium_key_setting() -%}
    {%- set key = env_var('EWS_CONSORTIUM_KEY', '') if execute else '' -%}
    {%- if key and key | length < 32 -%}
        {{ exceptions.raise_compiler_error(
            'EWS_CONSORTIUM_KEY must hold at least 32 characters (it has ' ~ (key | length) ~ '): '
            ~ 'a short key lets anyone who guesses it recompute every pseudonym'
        ) }}
    {%- endif -%}
    select set_config('ews.consortium_key', '{{ key | replace("'", "''") }}', true)
{%- endmacro %}
