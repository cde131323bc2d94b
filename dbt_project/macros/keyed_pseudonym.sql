{#-
    A keyed pseudonym of an identifier: HMAC-SHA256 (warning.hmac_sha256, migration 0008), hex-encoded, of the value
    normalised to upper-case letters and digits (spaces, dashes, dots dropped), keyed with the server setting
    `key_setting`. Whoever holds the key computes the same value for the same person; without it the value can be
    neither computed nor inverted. Null when the key is not set or the value has no letter or digit.

    The key is never part of any SQL text (compiled files, run results, dbt's debug log, the server's statement
    log): warning_models.pseudonyms puts it in the session settings of dbt's connections (libpq PGOPTIONS),
    from EWS_PSEUDONYM_KEY (setting ews.pseudonym_key) and EWS_CONSORTIUM_KEY (ews.consortium_key).
-#}
{% macro keyed_pseudonym(value, key_setting) -%}
    encode(
        warning.hmac_sha256(
            convert_to(nullif(upper(regexp_replace({{ value }}, '[^0-9A-Za-z]', '', 'g')), ''), 'UTF8'),
            convert_to(nullif(current_setting('{{ key_setting }}', true), ''), 'UTF8')
        ),
        'hex'
    )
{%- endmacro %}

{#-
    Pre-hook of a model that must not be built without its key: a clear error instead of a column of nulls.
-#}
{% macro require_key_setting(key_setting, variable) -%}
    do $require_key$
    begin
        if coalesce(current_setting('{{ key_setting }}', true), '') = '' then
            raise exception '{{ variable }} is not set in the environment of dbt (warning_models.pseudonyms)';
        end if;
    end
    $require_key$
{%- endmacro %}
