//! The local disk under `assets.root`: `tmp/<task_id>/` holds a task's partial file (and a
//! quick download's finished file), `archive/<user_id>/<yyyymmdd>/` the archives.
//!
//! A download is written to `tmp/<task_id>/partial` while it is hashed; at the end its size is
//! checked, the file is fsynced and renamed to its final name, and the directory is fsynced, so
//! a finished file is complete on disk before the row says so. The final name contains the
//! task id, so a task that ran twice (a worker died after the rename) overwrites its own file:
//! there are never two finished files of one task.

use crate::domain::media::FetchError;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// Name of the partial file inside a task's directory.
const PARTIAL: &str = "partial";

/// Bytes done and expected of a running transfer, read by the progress publisher.
#[derive(Debug, Default)]
pub struct TransferProgress {
    done: AtomicU64,
    /// 0 while unknown.
    total: AtomicU64,
}

impl TransferProgress {
    /// Bytes so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Expected size, when known.
    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|total| *total > 0)
    }

    /// Records the expected size (a transfer that learns it along the way: yt-dlp).
    pub fn set_total(&self, total: Option<u64>) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
    }
}

/// The storage root and its layout.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
}

impl Storage {
    /// Storage under `root` (its `tmp/` and `archive/` are created).
    pub fn open(root: &Path) -> std::io::Result<Storage> {
        std::fs::create_dir_all(root.join("tmp"))?;
        std::fs::create_dir_all(root.join("archive"))?;
        Ok(Storage { root: root.to_path_buf() })
    }

    /// The root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `tmp/<task_id>/`.
    pub fn task_dir(&self, task_id: Uuid) -> PathBuf {
        self.root.join("tmp").join(task_id.hyphenated().to_string())
    }

    /// Where a finished file of this task goes (relative to the root): `tmp/<task_id>/<name>`
    /// for quick, `archive/<user_id>/<yyyymmdd>/<name>` for archive downloads.
    pub fn final_relative(&self, task_id: Uuid, user_id: Uuid, archive: bool, day: NaiveDate, name: &str) -> PathBuf {
        if archive {
            PathBuf::from("archive").join(user_id.hyphenated().to_string()).join(day.format("%Y%m%d").to_string()).join(name)
        } else {
            PathBuf::from("tmp").join(task_id.hyphenated().to_string()).join(name)
        }
    }

    /// The absolute path of a stored relative path, refusing anything that leaves the root.
    pub fn resolve(&self, relative: &str) -> Option<PathBuf> {
        let path = Path::new(relative);
        path.components().all(|component| matches!(component, Component::Normal(_))).then(|| self.root.join(path))
    }

    /// Opens (or continues) the partial file of `task_id`, limited to `max` bytes.
    pub async fn partial(&self, task_id: Uuid, max: u64) -> std::io::Result<PartialFile> {
        let dir = self.task_dir(task_id);
        tokio::fs::create_dir_all(&dir).await?;
        PartialFile::open(dir.join(PARTIAL), max).await
    }

    /// Moves a finished partial file to `relative`, durably (fsync of file and directory).
    pub async fn publish(&self, finished: FinishedFile, relative: &Path) -> std::io::Result<PathBuf> {
        let target = self.root.join(relative);
        let dir = target.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::rename(&finished.path, &target).await?;
        tokio::fs::File::open(&dir).await?.sync_all().await?;
        Ok(target)
    }

    /// Removes a task's directory (its partial file and, for quick downloads, its file).
    pub async fn remove_task_dir(&self, task_id: Uuid) -> std::io::Result<()> {
        match tokio::fs::remove_dir_all(self.task_dir(task_id)).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Removes a stored file (and, for quick downloads, its task directory).
    pub async fn remove_file(&self, relative: &str) -> std::io::Result<()> {
        let Some(path) = self.resolve(relative) else { return Ok(()) };
        match tokio::fs::remove_file(&path).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// The task directories present under `tmp/` (for the sweep of dead tasks).
    pub async fn task_dirs(&self) -> std::io::Result<Vec<Uuid>> {
        let mut entries = tokio::fs::read_dir(self.root.join("tmp")).await?;
        let mut ids = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            if let Some(id) = entry.file_name().to_str().and_then(|name| name.parse::<Uuid>().ok()) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

/// A file being downloaded: appended to, hashed as it grows, capped.
pub struct PartialFile {
    path: PathBuf,
    file: tokio::fs::File,
    hasher: Sha256,
    len: u64,
    max: u64,
    progress: Arc<TransferProgress>,
}

/// A complete partial file, synced, with its size and hash.
pub struct FinishedFile {
    path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

impl PartialFile {
    /// Opens `path`, keeping (and hashing) what an earlier attempt left in it.
    pub async fn open(path: PathBuf, max: u64) -> std::io::Result<PartialFile> {
        let mut file = tokio::fs::OpenOptions::new().create(true).read(true).append(true).open(&path).await?;
        let mut hasher = Sha256::new();
        let mut len = 0_u64;
        let mut buffer = vec![0_u8; 256 * 1024];
        loop {
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            len += read as u64;
        }
        let progress = Arc::new(TransferProgress::default());
        progress.done.store(len, Ordering::Relaxed);
        Ok(PartialFile { path, file, hasher, len, max, progress })
    }

    /// Bytes held.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The counters the progress publisher reads.
    pub fn progress(&self) -> Arc<TransferProgress> {
        self.progress.clone()
    }

    /// Records the expected size (for progress).
    pub fn set_total(&self, total: Option<u64>) {
        self.progress.set_total(total);
    }

    /// Appends `chunk`; past the cap, `TooLarge`.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), FetchError> {
        if self.len + chunk.len() as u64 > self.max {
            return Err(FetchError::TooLarge { limit: self.max });
        }
        self.file.write_all(chunk).await.map_err(|error| FetchError::Storage(error.to_string()))?;
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
        self.progress.done.store(self.len, Ordering::Relaxed);
        Ok(())
    }

    /// Empties it (the download starts again from byte 0).
    pub async fn restart(&mut self) -> Result<(), FetchError> {
        self.file.set_len(0).await.map_err(|error| FetchError::Storage(error.to_string()))?;
        self.hasher = Sha256::new();
        self.len = 0;
        self.progress.done.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// Flushes and fsyncs it; returns its size and hash.
    pub async fn finish(mut self) -> std::io::Result<FinishedFile> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let on_disk = tokio::fs::metadata(&self.path).await?.len();
        if on_disk != self.len {
            return Err(std::io::Error::other(format!("the partial file has {on_disk} bytes on disk, {} written", self.len)));
        }
        let sha256 = self.hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
        Ok(FinishedFile { path: self.path, size: self.len, sha256 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_never_leave_the_root() {
        let storage = Storage { root: PathBuf::from("/srv/assets") };
        assert!(storage.resolve("archive/u/20261201/a.mp4").is_some());
        assert!(storage.resolve("../etc/passwd").is_none());
        assert!(storage.resolve("/etc/passwd").is_none());
    }
}
