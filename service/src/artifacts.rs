//! Where the service keeps files: snapshots (private, deleted after the epoch per
//! the retention setting), batch proofs, statements and inclusion proofs.
//!
//! [`ArtifactStore`] is a flat key–value interface (keys are `/`-separated
//! relative paths) so that an object store can stand in for the shared directory
//! of [`LocalDir`]: every worker must reach the same store. Keys:
//!
//! ```text
//! epochs/<epoch>/inputs/snapshot-<sha256>.json   private: the submitted snapshot
//! epochs/<epoch>/public/statement.json           the published statement
//! epochs/<epoch>/public/verifying_key.bin        the key it was proven with
//! epochs/<epoch>/public/proofs/batch-NNNNNN.bin  one proof per batch (write-once)
//! epochs/<epoch>/inclusion/<account>.json        each owner's inclusion proof
//! epochs/<epoch>/inclusion/batch-roots.json      the batch roots they share
//! ```

use crate::ServiceError;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// What [`ArtifactStore::put_new`] and [`put_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The value was stored.
    Stored,
    /// A value was already stored under the key; it was left alone.
    AlreadyExists,
    /// ([`put_once`] only) Another value is stored under the key; it was left
    /// alone.
    Differs,
}

/// A store every process of the service can reach.
pub trait ArtifactStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` under `key`, replacing any value, atomically: a reader sees
    /// the old value or the new one, never a part.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ServiceError>;
    /// Stores `bytes` under `key` only if nothing is stored there (atomic
    /// create-if-absent): a batch proof is written once, whoever proves it.
    fn put_new(&self, key: &str, bytes: &[u8]) -> Result<PutOutcome, ServiceError>;
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ServiceError>;
    /// Whether a value is stored under `key`.
    fn exists(&self, key: &str) -> Result<bool, ServiceError>;
    /// The keys under `prefix` (a directory-like prefix ending without `/`).
    fn list(&self, prefix: &str) -> Result<Vec<String>, ServiceError>;
    /// Deletes the value under `key`, if any.
    fn delete(&self, key: &str) -> Result<(), ServiceError>;
    /// Deletes every key under `prefix`.
    fn delete_prefix(&self, prefix: &str) -> Result<(), ServiceError>;
    /// The names directly under `prefix` (files and directory-like prefixes),
    /// temporaries excluded, with the age of each (time since last modified).
    fn children(&self, prefix: &str) -> Result<Vec<(String, std::time::Duration)>, ServiceError>;
    /// Checks that the store takes a write now (readiness: a full or read-only
    /// disk is not ready).
    fn check_writable(&self) -> Result<(), ServiceError>;
    /// Removes temporary files older than `age` that a killed writer left behind;
    /// the number removed.
    fn sweep_temporaries(&self, age: std::time::Duration) -> Result<usize, ServiceError>;
}

/// Stores `bytes` under `key` once: a value already there is left alone, and
/// is either the same bytes (a retried verification publishes the same
/// statement: [`PutOutcome::AlreadyExists`]) or not ([`PutOutcome::Differs`]): a
/// published file is never replaced.
pub fn put_once(
    store: &dyn ArtifactStore,
    key: &str,
    bytes: &[u8],
) -> Result<PutOutcome, ServiceError> {
    match store.put_new(key, bytes)? {
        PutOutcome::Stored => Ok(PutOutcome::Stored),
        PutOutcome::AlreadyExists | PutOutcome::Differs => {
            if store.get(key)?.as_deref() == Some(bytes) {
                Ok(PutOutcome::AlreadyExists)
            } else {
                Ok(PutOutcome::Differs)
            }
        }
    }
}

/// How long ago `entry` was last modified, if the file system says.
fn age_of(entry: &std::fs::DirEntry) -> Option<std::time::Duration> {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
}

/// Syncs the directory `dir`, so that a name just linked, renamed or created in
/// it survives a power loss.
fn sync_dir(dir: &Path) -> Result<(), ServiceError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ServiceError::io(dir, e))
}

/// Keys of one epoch.
#[derive(Debug, Clone, Copy)]
pub struct EpochKeys(pub i64);

impl EpochKeys {
    /// The private inputs' prefix.
    pub fn inputs(self) -> String {
        format!("epochs/{}/inputs", self.0)
    }
    /// The snapshot with content hash `hash`.
    pub fn snapshot(self, hash: &str) -> String {
        format!("epochs/{}/inputs/snapshot-{hash}.json", self.0)
    }
    /// The published epoch directory's prefix.
    pub fn public(self) -> String {
        format!("epochs/{}/public", self.0)
    }
    /// A file of the published epoch directory.
    pub fn public_file(self, name: &str) -> String {
        format!("epochs/{}/public/{name}", self.0)
    }
    /// Batch `b`'s proof (the name `backstop_verifier::artifacts::proof_path` uses).
    pub fn proof(self, batch: i64) -> String {
        format!(
            "epochs/{}/public/{}/batch-{batch:06}.bin",
            self.0,
            backstop_verifier::artifacts::PROOFS_DIR
        )
    }
    /// The inclusion proofs' prefix.
    pub fn inclusion(self) -> String {
        format!("epochs/{}/inclusion", self.0)
    }
    /// One inclusion-proof file.
    pub fn inclusion_file(self, name: &str) -> String {
        format!("epochs/{}/inclusion/{name}", self.0)
    }
}

/// A directory on a local or shared file system (NFS and the like).
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// Opens (creating) the directory.
    pub fn open(root: &Path) -> Result<Self, ServiceError> {
        std::fs::create_dir_all(root).map_err(|e| ServiceError::io(root, e))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The path of `key`; keys are relative and never leave the root.
    fn path(&self, key: &str) -> Result<PathBuf, ServiceError> {
        let rel = Path::new(key);
        let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if key.is_empty() || !plain {
            return Err(ServiceError::Config(format!(
                "invalid artifact key {key:?}"
            )));
        }
        Ok(self.root.join(rel))
    }

    /// Creates `dir` and any missing parents under the root, syncing each parent
    /// whose entries changed.
    fn create_dirs(&self, dir: &Path) -> Result<(), ServiceError> {
        if dir.is_dir() {
            return Ok(());
        }
        let mut missing = Vec::new();
        let mut at = dir;
        while !at.is_dir() {
            missing.push(at.to_path_buf());
            match at.parent() {
                Some(parent) => at = parent,
                None => break,
            }
        }
        std::fs::create_dir_all(dir).map_err(|e| ServiceError::io(dir, e))?;
        for created in missing.iter().rev() {
            if let Some(parent) = created.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(())
    }

    /// Writes `bytes` to a fresh temporary file beside `path`, synced.
    fn temp_beside(
        &self,
        path: &Path,
        bytes: &[u8],
    ) -> Result<tempfile::NamedTempFile, ServiceError> {
        let parent = path.parent().unwrap_or(&self.root);
        self.create_dirs(parent)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(parent)
            .map_err(|e| ServiceError::io(parent, e))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| ServiceError::io(path, e))?;
        Ok(tmp)
    }
}

impl ArtifactStore for LocalDir {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ServiceError> {
        let path = self.path(key)?;
        let tmp = self.temp_beside(&path, bytes)?;
        tmp.persist(&path)
            .map_err(|e| ServiceError::io(&path, e.error))?;
        sync_dir(path.parent().unwrap_or(&self.root))
    }

    fn put_new(&self, key: &str, bytes: &[u8]) -> Result<PutOutcome, ServiceError> {
        let path = self.path(key)?;
        let tmp = self.temp_beside(&path, bytes)?;
        // A hard link is created atomically and fails if the name exists.
        match std::fs::hard_link(tmp.path(), &path) {
            Ok(()) => {
                sync_dir(path.parent().unwrap_or(&self.root))?;
                Ok(PutOutcome::Stored)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok(PutOutcome::AlreadyExists)
            }
            Err(e) => Err(ServiceError::io(&path, e)),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        let path = self.path(key)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ServiceError::io(&path, e)),
        }
    }

    fn exists(&self, key: &str) -> Result<bool, ServiceError> {
        Ok(self.path(key)?.is_file())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, ServiceError> {
        let dir = self.path(prefix)?;
        let mut keys = Vec::new();
        let mut stack = vec![(dir, prefix.to_owned())];
        while let Some((dir, key)) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(ServiceError::io(&dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| ServiceError::io(&dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(".tmp-") {
                    continue;
                }
                let child = format!("{key}/{name}");
                let kind = entry.file_type().map_err(|e| ServiceError::io(&dir, e))?;
                if kind.is_dir() {
                    stack.push((entry.path(), child));
                } else {
                    keys.push(child);
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn delete(&self, key: &str) -> Result<(), ServiceError> {
        let path = self.path(key)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ServiceError::io(&path, e)),
        }
    }

    fn delete_prefix(&self, prefix: &str) -> Result<(), ServiceError> {
        let path = self.path(prefix)?;
        match std::fs::remove_dir_all(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ServiceError::io(&path, e)),
        }
    }

    fn children(&self, prefix: &str) -> Result<Vec<(String, std::time::Duration)>, ServiceError> {
        let dir = self.path(prefix)?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ServiceError::io(&dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ServiceError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                continue;
            }
            out.push((name, age_of(&entry).unwrap_or_default()));
        }
        out.sort();
        Ok(out)
    }

    fn check_writable(&self) -> Result<(), ServiceError> {
        let mut probe = tempfile::Builder::new()
            .prefix(".tmp-ready-")
            .tempfile_in(&self.root)
            .map_err(|e| ServiceError::io(&self.root, e))?;
        probe
            .write_all(&[0u8; 4096])
            .and_then(|()| probe.as_file().sync_all())
            .map_err(|e| ServiceError::io(&self.root, e))
    }

    fn sweep_temporaries(&self, age: std::time::Duration) -> Result<usize, ServiceError> {
        let mut removed = 0;
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(ServiceError::io(&dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| ServiceError::io(&dir, e))?;
                let kind = entry.file_type().map_err(|e| ServiceError::io(&dir, e))?;
                let temporary = entry.file_name().to_string_lossy().starts_with(".tmp-");
                if kind.is_dir() && !temporary {
                    stack.push(entry.path());
                    continue;
                }
                if !temporary {
                    continue;
                }
                let old = age_of(&entry).is_some_and(|elapsed| elapsed >= age);
                if old {
                    let gone = if kind.is_dir() {
                        std::fs::remove_dir_all(entry.path())
                    } else {
                        std::fs::remove_file(entry.path())
                    };
                    match gone {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(ServiceError::io(entry.path(), e)),
                    }
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn put_new_never_overwrites_and_keys_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::open(dir.path()).unwrap();
        let key = EpochKeys(7).proof(3);
        assert_eq!(store.put_new(&key, b"one").unwrap(), PutOutcome::Stored);
        assert_eq!(
            store.put_new(&key, b"two").unwrap(),
            PutOutcome::AlreadyExists
        );
        assert_eq!(store.get(&key).unwrap().unwrap(), b"one");
        assert_eq!(store.list("epochs/7/public").unwrap(), vec![key.clone()]);
        assert!(store.get("../escape").is_err());
        assert!(store.get("/etc/passwd").is_err());
        store.delete_prefix("epochs/7").unwrap();
        assert!(!store.exists(&key).unwrap());
    }
}
