//! Secrets `guildhall up` generates once and keeps in the data folder.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use rand::RngCore;

/// Reads `DIR/secrets/NAME`, creating it with `len` random bytes (hex, mode 0600) when absent.
pub fn load_or_generate(data_dir: &Path, name: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let dir = data_dir.join("secrets");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            decode_hex(text.trim()).with_context(|| format!("{} is not hex", path.display()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = vec![0u8; len];
            rand::rng().fill_bytes(&mut bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            // create_new: if another process won the race, read what it wrote.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(hex.as_bytes())?;
                    file.sync_all()?;
                    Ok(bytes)
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_generate(data_dir, name, len)
                }
                Err(err) => Err(err).with_context(|| format!("writing {}", path.display())),
            }
        }
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

fn decode_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        text.len().is_multiple_of(2) && !text.is_empty(),
        "odd or empty length"
    );
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(Into::into))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generated_once_then_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_generate(dir.path(), "k", 32).unwrap();
        let again = load_or_generate(dir.path(), "k", 32).unwrap();
        assert_eq!(first, again);
        assert_eq!(first.len(), 32);
        let mode = std::fs::metadata(dir.path().join("secrets/k"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(dir.path().join("secrets"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        std::fs::write(dir.path().join("secrets/bad"), "zz").unwrap();
        assert!(load_or_generate(dir.path(), "bad", 32).is_err());
    }
}
