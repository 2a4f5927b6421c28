//! `guildhall import guest-profiles FILE` and `guildhall import rollback BATCH`.
//! The runbook is docs/runbooks/import-guest-profiles.md.

use std::process::ExitCode;

use guildhall_head::ProfileStore;
use guildhall_head::import;
use guildhall_names::ReservedNames;
use guildhall_tokens::now_unix;

use crate::cli::{ConfigArgs, ImportArgs};

pub async fn guest_profiles(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config, |layers| layers)?;
    anyhow::ensure!(args.batch_size >= 1, "--batch-size must be at least 1");
    let rows =
        import::read(&args.file).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let total = rows.len();
    let store = super::open_store(&config).await?;
    let profiles = ProfileStore::new(store.clone());
    let skeletons = profiles.username_skeletons().await?;
    let reserved = ReservedNames::with_defaults(&config.head.reserved_names);
    let now = now_unix();
    let plan = import::plan(
        rows,
        &reserved,
        |name| skeletons.contains(&name.skeleton_key()),
        now,
    );
    let already = profiles.imported_legacy_ids().await?;
    let (fresh, present): (Vec<_>, Vec<_>) = plan
        .planned
        .iter()
        .cloned()
        .partition(|p| !already.contains(&p.legacy_id));

    for rejected in &plan.rejected {
        println!(
            "rejected  line {:<6} {:<24} {}",
            rejected.line,
            rejected.legacy_id.as_deref().unwrap_or("-"),
            rejected.reason
        );
    }
    for planned in fresh.iter().filter(|p| p.changed_from.is_some()) {
        println!(
            "changed   {:<24} {:?} -> {:?}",
            planned.legacy_id,
            planned.changed_from.as_deref().unwrap_or_default(),
            planned.name.as_str()
        );
    }
    println!(
        "{total} rows: {} to import ({} with changed names), {} already imported, {} rejected",
        fresh.len(),
        fresh.iter().filter(|p| p.changed_from.is_some()).count(),
        present.len(),
        plan.rejected.len()
    );
    if args.dry_run {
        println!("dry run: nothing written");
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let batch = format!("import-{}", uuid::Uuid::now_v7());
    let mut inserted = 0;
    for chunk in fresh.chunks(args.batch_size) {
        inserted += profiles.import_chunk(&batch, chunk, now).await?;
    }
    println!("imported {inserted} profiles in batch {batch}");
    println!("to undo exactly this import: guildhall import rollback {batch}");
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn rollback(batch: &str, args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args, |layers| layers)?;
    let store = super::open_store(&config).await?;
    let removed = ProfileStore::new(store.clone())
        .rollback_import(batch)
        .await?;
    store.close().await;
    println!("removed {removed} profiles of batch {batch}");
    if removed > 0 {
        // Running heads drop their cached profiles at once where they share this bus
        // (Redis); otherwise theirs expire within head.profile_cache_ttl_ms.
        let bus = guildhall_bus::connect(&config.bus.url, &config.bus.key_prefix).await?;
        guildhall_head::announce_profiles_changed(&bus).await?;
    }
    Ok(if removed == 0 {
        eprintln!("guildhall: no profiles belong to batch {batch}");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
