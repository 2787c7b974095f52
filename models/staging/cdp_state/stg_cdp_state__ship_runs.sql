with

source as (
    select * from {{ source('cdp_state', 'cdp_ship_runs') }}
),

renamed as (
    select
        run_id,
        started_at,
        finished_at,
        scope,
        batch_dir,
        files,
        bytes,
        records_sent,
        records_succeeded,
        records_rejected,
        rejected_by_code,
        deletes_already_absent,
        duration_seconds,
        exit_code,
        cast(started_at as date) as started_on,
        exit_code = 0 as is_clean
    from source
)

select * from renamed
