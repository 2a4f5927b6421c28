//! Making a game's playground and a player's files before the game runs.

use std::io::ErrorKind;
use std::path::Path;

use tokio::fs;
use tokio::process::Command;

use crate::config::{GameConfig, RcTemplate};
use crate::error::Error;
use crate::launch::{UNSHARE, private_mount_prefix};
use crate::layout::DataLayout;
use crate::names::UserName;

/// Creates or refreshes `game`'s playground: directories and empty files when
/// missing, links and written files every time.
pub async fn prepare(game: &GameConfig, layout: &DataLayout) -> Result<(), Error> {
    let root = layout.playground(&game.id);
    create_dir(&root).await?;
    let setup = &game.playground;
    for dir in &setup.dirs {
        create_dir(&root.join(dir)).await?;
    }
    for file in &setup.empty_files {
        let path = root.join(file);
        create_parent(&path).await?;
        let created = fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&path)(e)),
        }
    }
    for link in &setup.links {
        let path = root.join(&link.path);
        create_parent(&path).await?;
        match fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path)(e)),
        }
        fs::symlink(&link.target, &path)
            .await
            .map_err(Error::io(&path))?;
    }
    for file in &setup.files {
        let path = root.join(&file.path);
        create_parent(&path).await?;
        fs::write(&path, &file.text)
            .await
            .map_err(Error::io(&path))?;
    }
    Ok(())
}

/// Checks that `game`'s private mounts can be made here, by making them around
/// `/bin/true`.
pub async fn probe_private_mounts(game: &GameConfig, layout: &DataLayout) -> Result<(), Error> {
    let mounts = &game.playground.private_mounts;
    if mounts.is_empty() {
        return Ok(());
    }
    let root = layout.playground(&game.id);
    let mut command = Command::new(UNSHARE);
    command.args(private_mount_prefix(mounts.len()));
    for mount in mounts {
        command.arg(root.join(&mount.source)).arg(&mount.target);
    }
    command.arg("/bin/true").env_clear().kill_on_drop(true);
    let unavailable = |detail: String| Error::PrivateMountsUnavailable {
        game: game.id.clone(),
        detail,
    };
    let output = command
        .output()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(unavailable(format!("{}: {}", output.status, stderr.trim())))
    }
}

/// Creates `user`'s directory for `game` and, the first time, their options file
/// from the game's template.
pub async fn prepare_user(
    game: &GameConfig,
    layout: &DataLayout,
    user: &UserName,
) -> Result<(), Error> {
    create_dir(&layout.home(user, &game.id)).await?;
    let rc = layout.rc_file(user, &game.id);
    if fs::try_exists(&rc).await.map_err(Error::io(&rc))? {
        return Ok(());
    }
    let text = match &game.rc_template {
        None => String::new(),
        Some(RcTemplate::Text(text)) => text.clone(),
        Some(RcTemplate::Path(path)) => fs::read_to_string(path).await.map_err(Error::io(path))?,
    };
    fs::write(&rc, text).await.map_err(Error::io(&rc))
}

async fn create_dir(path: &Path) -> Result<(), Error> {
    fs::create_dir_all(path).await.map_err(Error::io(path))
}

async fn create_parent(path: &Path) -> Result<(), Error> {
    match path.parent() {
        Some(parent) => create_dir(parent).await,
        None => Ok(()),
    }
}
