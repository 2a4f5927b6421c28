//! The gateway's Ed25519 host key: generated on first start, kept in OpenSSH format so
//! every later start (and every gateway sharing the file) shows clients the same key.

use std::path::Path;

use rand::RngCore;
use russh::keys::PrivateKey;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;

/// Reads the host key at `path`, or creates one there (mode 0600) if there is none.
pub fn load_or_create(path: &Path) -> anyhow::Result<PrivateKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => PrivateKey::from_openssh(text.as_bytes())
            .map_err(|e| anyhow::anyhow!("{}: not an OpenSSH private key: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

fn create(path: &Path) -> anyhow::Result<PrivateKey> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the host key: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    }
    // Written aside and renamed, so two gateways starting together never read half a
    // key; the first rename wins and the loser reads the winner's key.
    let partial = path.with_extension(format!("tmp{}", std::process::id()));
    write_private(&partial, text.as_bytes())?;
    std::fs::rename(&partial, path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), fingerprint = %key.public_key().fingerprint(Default::default()), "created the SSH host key");
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    file.write_all(bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/ssh_host_ed25519_key");
        let first = load_or_create(&path).unwrap();
        let second = load_or_create(&path).unwrap();
        assert_eq!(first.public_key(), second.public_key());
        assert_eq!(first.algorithm(), russh::keys::Algorithm::Ed25519);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_corrupt_key_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "not a key").unwrap();
        assert!(load_or_create(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
    }
}
