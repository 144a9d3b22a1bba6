//! Object storage for uploaded files: the [`ObjectStorage`] trait and its local-disk
//! implementation.
//!
//! A write happens in two steps so that the database decides which write wins: [`stage`]
//! streams the body into a private staging area (hashing and counting as it goes, refusing
//! more than the cap), and [`commit`] makes a staged file visible under its key. The upload
//! service commits inside the transaction that marks the upload complete, while it holds the
//! row lock, so two racing uploads can never both publish a file under one key.
//!
//! The trait is object-safe (boxed futures and streams) so that the backend can be chosen at
//! start-up. It is shaped so that an S3-compatible backend can implement it later: `stage` maps
//! to a multipart upload (`CreateMultipartUpload` + `UploadPart`, hashing on the way), `commit`
//! to `CompleteMultipartUpload`, dropping a [`StagedObject`] to `AbortMultipartUpload`,
//! `delete` to `DeleteObject`, and [`remove_stale_parts`] to aborting incomplete multipart
//! uploads older than the cutoff (what a bucket lifecycle rule also does). Such a backend
//! would add a variant to the private staging handle of [`StagedObject`].
//!
//! [`stage`]: ObjectStorage::stage
//! [`commit`]: ObjectStorage::commit
//! [`remove_stale_parts`]: ObjectStorage::remove_stale_parts

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tokio::io::{AsyncWriteExt, BufWriter};

/// A request body, chunk by chunk; an `Err` means the client's stream broke.
pub type ByteStream<'a> = BoxStream<'a, io::Result<Bytes>>;

/// Why a body could not be staged. In every case nothing is left behind.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// The body went past the cap.
    #[error("the body is larger than {max_bytes} bytes")]
    TooLarge {
        /// The cap.
        max_bytes: u64,
    },
    /// The body stream failed (the client went away or sent a broken body).
    #[error("reading the body failed: {0}")]
    Body(#[source] io::Error),
    /// Storage failed (disk full, permissions…).
    #[error("storage failed: {0}")]
    Storage(#[source] io::Error),
}

/// A fully written, durable file that is not visible under its key yet. Dropping it without
/// [`ObjectStorage::commit`] discards it.
#[derive(Debug)]
pub struct StagedObject {
    /// The key it will be committed under.
    pub key: String,
    /// Its size.
    pub size_bytes: u64,
    /// Lowercase hex SHA-256 of its content.
    pub sha256: String,
    staging: Staging,
}

/// Where a backend keeps a staged file.
#[derive(Debug)]
enum Staging {
    /// A `.part` file of [`LocalDiskStorage`].
    LocalPart(PartFile),
}

/// Stores uploaded files by key.
pub trait ObjectStorage: Send + Sync + 'static {
    /// Streams `body` into the staging area, hashing it; fails with [`PutError::TooLarge`] as
    /// soon as more than `max_bytes` arrived. On any failure (or when the future is dropped
    /// mid-way) the partial data is removed.
    fn stage<'a>(&'a self, key: &'a str, body: ByteStream<'a>, max_bytes: u64) -> BoxFuture<'a, Result<StagedObject, PutError>>;

    /// Makes a staged file visible under its key, replacing any file already there.
    fn commit(&self, staged: StagedObject) -> BoxFuture<'_, io::Result<()>>;

    /// Deletes the file under `key`; a missing file is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>>;

    /// Removes abandoned staging data (of crashed processes or killed requests) last written
    /// before `older_than`; returns how many pieces were removed.
    fn remove_stale_parts(&self, older_than: SystemTime) -> BoxFuture<'_, io::Result<usize>>;

    /// `stage` then `commit`: a streamed put with a size cap, for callers with no transaction
    /// to coordinate with.
    fn put<'a>(&'a self, key: &'a str, body: ByteStream<'a>, max_bytes: u64) -> BoxFuture<'a, Result<(u64, String), PutError>> {
        Box::pin(async move {
            let staged = self.stage(key, body, max_bytes).await?;
            let stored = (staged.size_bytes, staged.sha256.clone());
            self.commit(staged).await.map_err(PutError::Storage)?;
            Ok(stored)
        })
    }
}

/// Files in a local directory: `<root>/objects/<key>` once committed, `<root>/tmp/<key>.<nonce>.part`
/// while being written. `tmp` and `objects` must be on one file system, so that committing is
/// an atomic rename.
#[derive(Debug, Clone)]
pub struct LocalDiskStorage {
    objects: PathBuf,
    tmp: PathBuf,
}

/// Bytes buffered before a write reaches the file (fewer, larger blocking writes).
const WRITE_BUFFER_BYTES: usize = 256 * 1024;

impl LocalDiskStorage {
    /// Uses `root`, creating `objects/` and `tmp/` inside it.
    pub fn open(root: &Path) -> io::Result<LocalDiskStorage> {
        let objects = root.join("objects");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&objects)?;
        std::fs::create_dir_all(&tmp)?;
        Ok(LocalDiskStorage { objects, tmp })
    }

    /// Where the committed file of `key` lives (whether or not it exists).
    pub fn object_path(&self, key: &str) -> io::Result<PathBuf> {
        check_key(key)?;
        Ok(self.objects.join(key))
    }

    /// The staging directory (holds `.part` files only).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    async fn stage_part(&self, key: &str, mut body: ByteStream<'_>, max_bytes: u64) -> Result<StagedObject, PutError> {
        check_key(key).map_err(PutError::Storage)?;
        // A nonce per write: two writes of one key never share a part file.
        let part = PartFile { path: self.tmp.join(format!("{key}.{}.part", uuid::Uuid::new_v4().simple())), armed: true };
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&part.path).await.map_err(PutError::Storage)?;
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        let mut hasher = Sha256::new();
        let mut size_bytes: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(PutError::Body)?;
            size_bytes = size_bytes.saturating_add(chunk.len() as u64);
            if size_bytes > max_bytes {
                return Err(PutError::TooLarge { max_bytes });
            }
            hasher.update(&chunk);
            writer.write_all(&chunk).await.map_err(PutError::Storage)?;
        }
        writer.flush().await.map_err(PutError::Storage)?;
        // Durable before it can be committed: a crash after the commit never exposes a file
        // whose content is still only in the page cache.
        writer.into_inner().sync_all().await.map_err(PutError::Storage)?;
        Ok(StagedObject { key: key.to_owned(), size_bytes, sha256: hex(&hasher.finalize()), staging: Staging::LocalPart(part) })
    }

    async fn commit_part(&self, staged: StagedObject) -> io::Result<()> {
        let Staging::LocalPart(mut part) = staged.staging;
        let target = self.object_path(&staged.key)?;
        tokio::fs::rename(&part.path, &target).await?;
        part.armed = false;
        // The rename itself is durable only once the directory entry is.
        let objects = self.objects.clone();
        tokio::task::spawn_blocking(move || std::fs::File::open(objects)?.sync_all()).await.map_err(io::Error::other)?
    }

    async fn delete_object(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.object_path(key)?).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    async fn remove_parts_before(&self, older_than: SystemTime) -> io::Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(&self.tmp).await?;
        while let Some(entry) = entries.next_entry().await? {
            if !entry.file_name().to_string_lossy().ends_with(".part") {
                continue;
            }
            // A part being written has a fresh mtime (every buffered write touches it), so only
            // abandoned ones are this old.
            let Ok(modified) = entry.metadata().await.and_then(|meta| meta.modified()) else { continue };
            if modified < older_than {
                match tokio::fs::remove_file(entry.path()).await {
                    Ok(()) => removed += 1,
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(removed)
    }
}

impl ObjectStorage for LocalDiskStorage {
    fn stage<'a>(&'a self, key: &'a str, body: ByteStream<'a>, max_bytes: u64) -> BoxFuture<'a, Result<StagedObject, PutError>> {
        Box::pin(self.stage_part(key, body, max_bytes))
    }

    fn commit(&self, staged: StagedObject) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(self.commit_part(staged))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(self.delete_object(key))
    }

    fn remove_stale_parts(&self, older_than: SystemTime) -> BoxFuture<'_, io::Result<usize>> {
        Box::pin(self.remove_parts_before(older_than))
    }
}

/// A `.part` file that is removed when dropped unless it was renamed into place. Dropping
/// covers every way a write can end early: an error, an oversize body, or the request future
/// being dropped when the client disconnects.
#[derive(Debug)]
struct PartFile {
    path: PathBuf,
    armed: bool,
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.armed {
            // Blocking, but an unlink is quick and Drop cannot await.
            if let Err(error) = std::fs::remove_file(&self.path)
                && error.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(path = %self.path.display(), %error, "could not remove a partial upload");
            }
        }
    }
}

/// Keys become file names: only `[A-Za-z0-9_-]`, so no key can climb out of the directory.
fn check_key(key: &str) -> io::Result<()> {
    let valid = !key.is_empty() && key.len() <= 128 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid { Ok(()) } else { Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid storage key {key:?}"))) }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A storage root removed when the test ends.
    struct Root(PathBuf);

    impl Root {
        fn new() -> Root {
            Root(std::env::temp_dir().join(format!("vidgraph-objects-test-{}", uuid::Uuid::new_v4().simple())))
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn chunks(parts: &[&'static [u8]]) -> ByteStream<'static> {
        futures::stream::iter(parts.iter().map(|part| Ok(Bytes::from_static(part))).collect::<Vec<_>>()).boxed()
    }

    fn files_in(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect()
    }

    #[tokio::test]
    async fn a_complete_write_lands_under_its_key_with_size_and_sha256() {
        let root = Root::new();
        let storage = LocalDiskStorage::open(&root.0).expect("open");
        let (size, sha256) = storage.put("abc", chunks(&[b"hello ", b"world"]), 11).await.expect("put");
        assert_eq!(size, 11);
        assert_eq!(sha256, hex(&Sha256::digest(b"hello world")));
        assert_eq!(std::fs::read(storage.object_path("abc").expect("path")).expect("object"), b"hello world");
        assert!(files_in(storage.tmp_dir()).is_empty(), "no part file left");
    }

    #[tokio::test]
    async fn an_oversize_write_leaves_nothing() {
        let root = Root::new();
        let storage = LocalDiskStorage::open(&root.0).expect("open");
        let error = storage.put("big", chunks(&[b"12345", b"67890"]), 9).await.expect_err("too large");
        assert!(matches!(error, PutError::TooLarge { max_bytes: 9 }), "{error:?}");
        assert!(!storage.object_path("big").expect("path").exists());
        assert!(files_in(storage.tmp_dir()).is_empty(), "part file removed");
    }

    #[tokio::test]
    async fn a_broken_body_or_a_dropped_stage_leaves_nothing() {
        let root = Root::new();
        let storage = LocalDiskStorage::open(&root.0).expect("open");
        let broken = futures::stream::iter(vec![Ok(Bytes::from_static(b"abc")), Err(io::Error::other("reset"))]).boxed();
        assert!(matches!(storage.put("k", broken, 100).await, Err(PutError::Body(_))));
        let staged = storage.stage("k", chunks(&[b"abc"]), 100).await.expect("stage");
        assert_eq!(files_in(storage.tmp_dir()).len(), 1);
        drop(staged);
        assert!(files_in(storage.tmp_dir()).is_empty());
        assert!(!storage.object_path("k").expect("path").exists());
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root_and_stale_parts_are_removed() {
        let root = Root::new();
        let storage = LocalDiskStorage::open(&root.0).expect("open");
        assert!(matches!(storage.put("../x", chunks(&[b"a"]), 10).await, Err(PutError::Storage(_))));
        std::fs::write(storage.tmp_dir().join("k.1.part"), b"left by a crash").expect("write");
        assert_eq!(storage.remove_stale_parts(SystemTime::now() - Duration::from_secs(60)).await.expect("sweep"), 0);
        assert_eq!(storage.remove_stale_parts(SystemTime::now() + Duration::from_secs(60)).await.expect("sweep"), 1);
        storage.delete("never-written").await.expect("deleting nothing is fine");
    }
}
