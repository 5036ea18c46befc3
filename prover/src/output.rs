//! Writing outputs so that an interrupted run never leaves a directory that looks
//! complete: every file is written and synced inside a temporary sibling, which is
//! renamed into place last, and an existing directory is replaced only when the
//! caller recognises it as an earlier output of the same kind.

use crate::error::ProverError;
use crate::keys::KEYS_FILE;
use backstop_verifier::artifacts::STATEMENT_FILE;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Creates `path` with `bytes` and syncs it to disk.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| ProverError::io(path, e))?;
    f.write_all(bytes).map_err(|e| ProverError::io(path, e))?;
    f.sync_all().map_err(|e| ProverError::io(path, e))
}

/// Fills a fresh temporary sibling of `dir` with `fill`, then renames it to `dir`.
/// An existing `dir` is first passed to `replaceable`, which refuses it with an
/// error unless it is an earlier output that may be replaced; if the final rename
/// fails, the earlier output is put back.
pub fn write_dir_atomically(
    dir: &Path,
    replaceable: impl FnOnce(&Path) -> Result<(), ProverError>,
    fill: impl FnOnce(&Path) -> Result<(), ProverError>,
) -> Result<(), ProverError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ProverError::Refused(format!("{}: not a directory name", dir.display())))?;
    std::fs::create_dir_all(&parent).map_err(|e| ProverError::io(&parent, e))?;
    let replacing = dir.symlink_metadata().is_ok();
    if replacing {
        replaceable(dir)?;
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(|e| ProverError::io(&parent, e))?;
    fill(tmp.path())?;
    if replacing {
        // `rename` does not replace a non-empty directory: move the old one aside.
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        std::fs::rename(dir, &old).map_err(|e| ProverError::io(dir, e))?;
        if let Err(e) = std::fs::rename(tmp.path(), dir) {
            // Put the earlier output back; `tmp` is removed when dropped.
            let _ = std::fs::rename(&old, dir);
            return Err(ProverError::io(dir, e));
        }
        let _ = tmp.keep();
        std::fs::remove_dir_all(&old).map_err(|e| ProverError::io(&old, e))
    } else {
        std::fs::rename(tmp.path(), dir).map_err(|e| ProverError::io(dir, e))?;
        let _ = tmp.keep();
        Ok(())
    }
}

/// Writes `files` (name, contents) as the directory `dir` with
/// [`write_dir_atomically`]; an existing `dir` may be replaced only if it holds
/// nothing but plain files that `is_export_file` accepts. `what` names the export
/// in the refusal ("a snarkjs export").
pub fn write_export_dir<N: AsRef<str>>(
    dir: &Path,
    files: &[(N, Vec<u8>)],
    what: &str,
    is_export_file: impl Fn(&str) -> bool,
) -> Result<(), ProverError> {
    let replaceable = |dir: &Path| {
        let refuse = |why: String| {
            ProverError::Export(format!(
                "{} {why}; refusing to replace it with {what}",
                dir.display()
            ))
        };
        if !dir.is_dir() {
            return Err(refuse("exists and is not a directory".into()));
        }
        for entry in std::fs::read_dir(dir).map_err(|e| ProverError::io(dir, e))? {
            let entry = entry.map_err(|e| ProverError::io(dir, e))?;
            let is_file = entry
                .file_type()
                .map_err(|e| ProverError::io(entry.path(), e))?
                .is_file();
            if !is_file || !entry.file_name().to_str().is_some_and(&is_export_file) {
                return Err(refuse(format!(
                    "holds {}, which is not part of {what}",
                    entry.path().display()
                )));
            }
        }
        Ok(())
    };
    write_dir_atomically(dir, replaceable, |tmp| {
        for (file, bytes) in files {
            write_file(&tmp.join(file.as_ref()), bytes)?;
        }
        Ok(())
    })
}

/// Writes `files` (path relative to `dir` with `/` separators, contents) as the
/// directory tree `dir` with [`write_dir_atomically`]; an existing `dir` may be
/// replaced only if every entry under it is accepted by `is_export_path(relative
/// path, is_directory)`: a file must be accepted itself, a directory is either
/// accepted whole (with everything under it) or searched. `what` names the export
/// in the refusal.
pub fn write_export_tree(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    what: &str,
    is_export_path: impl Fn(&str, bool) -> bool,
) -> Result<(), ProverError> {
    fn check(
        at: &Path,
        prefix: &str,
        accept: &dyn Fn(&str, bool) -> bool,
        refuse: &dyn Fn(&Path) -> ProverError,
    ) -> Result<(), ProverError> {
        for entry in std::fs::read_dir(at).map_err(|e| ProverError::io(at, e))? {
            let entry = entry.map_err(|e| ProverError::io(at, e))?;
            let kind = entry
                .file_type()
                .map_err(|e| ProverError::io(entry.path(), e))?;
            match entry.file_name().to_str().map(|n| format!("{prefix}{n}")) {
                Some(rel) if kind.is_dir() && accept(&rel, true) => {}
                Some(rel) if kind.is_dir() => {
                    check(&entry.path(), &format!("{rel}/"), accept, refuse)?
                }
                Some(rel) if kind.is_file() && accept(&rel, false) => {}
                _ => return Err(refuse(&entry.path())),
            }
        }
        Ok(())
    }
    let replaceable = |d: &Path| {
        let refuse = |why: String| {
            ProverError::Export(format!(
                "{} {why}; refusing to replace it with {what}",
                d.display()
            ))
        };
        if !d.is_dir() {
            return Err(refuse("exists and is not a directory".into()));
        }
        check(d, "", &is_export_path, &|path| {
            refuse(format!(
                "holds {}, which is not part of {what}",
                path.display()
            ))
        })
    };
    write_dir_atomically(dir, replaceable, |tmp| {
        for (file, bytes) in files {
            let path = tmp.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| ProverError::io(parent, e))?;
            }
            write_file(&path, bytes)?;
        }
        Ok(())
    })
}

/// `value` as pretty JSON with a final newline: the form of every JSON file Backstop
/// writes.
pub fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Writes `value` as JSON ([`json_bytes`]) to `path` atomically: a synced temporary
/// sibling renamed into place, so a reader never sees a half-written file.
pub fn write_json_file<T: Serialize>(path: &Path, value: &T) -> Result<(), ProverError> {
    write_file_atomically(path, &json_bytes(value))
}

/// Writes `bytes` to `path` atomically: a synced temporary sibling renamed into place.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ProverError::Refused(format!("{}: not a file name", path.display())))?;
    std::fs::create_dir_all(&parent).map_err(|e| ProverError::io(&parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempfile_in(&parent)
        .map_err(|e| ProverError::io(&parent, e))?;
    {
        use std::io::Write;
        let mut f = tmp.as_file();
        f.write_all(bytes).map_err(|e| ProverError::io(path, e))?;
        f.sync_all().map_err(|e| ProverError::io(path, e))?;
    }
    tmp.persist(path)
        .map_err(|e| ProverError::io(path, e.error))?;
    Ok(())
}

/// Refuses an existing `dir` unless it is empty or a previous output of ours (it
/// holds a `statement.json` or `keys.json`). Called before any work starts, and
/// again just before writing.
pub fn check_replaceable(dir: &Path) -> Result<(), ProverError> {
    if dir.exists() {
        let ours = dir.join(STATEMENT_FILE).is_file() || dir.join(KEYS_FILE).is_file();
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !ours && !empty {
            return Err(ProverError::Refused(format!(
                "{} exists and is not an output of backstop; refusing to replace it",
                dir.display()
            )));
        }
    }
    Ok(())
}
