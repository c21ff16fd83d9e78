//! Where generated media (images today) is kept. `MediaStore` is the seam for object storage;
//! `LocalMediaStore` keeps files under the configured media directory (`MEDIA_DIR`).
//!
//! Keys are relative, slash-separated paths such as `images/7/42.png`. A key with an absolute
//! part, `..`, or a symlink leading out of the directory is refused, so a stored key can never
//! reach another file of the machine.

use std::{
    io,
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use async_trait::async_trait;

use crate::{Error, Result};

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores `bytes` under `key`, replacing what was there; readers see the old or the new
    /// file, never part of one.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()>;

    /// The bytes under `key`, or `None` when there are none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Whether there are bytes under `key`.
    async fn exists(&self, key: &str) -> Result<bool>;

    /// Removes `key`; a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<()>;
}

/// The store the configuration describes.
pub fn store_for(config: &crate::Config) -> Arc<dyn MediaStore> {
    Arc::new(LocalMediaStore::new(config.media_dir.clone()))
}

/// Files under a directory.
#[derive(Clone, Debug)]
pub struct LocalMediaStore {
    root: PathBuf,
}

impl LocalMediaStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `root/key` when `key` is a plain relative path.
    fn path_of(&self, key: &str) -> Result<PathBuf> {
        let relative = Path::new(key);
        let plain = !key.is_empty() && relative.components().all(|part| matches!(part, Component::Normal(_)));
        if !plain {
            return Err(media_error(
                key,
                io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative key"),
            ));
        }
        Ok(self.root.join(relative))
    }
}

impl LocalMediaStore {
    /// The file under `key` when it exists inside the directory (symlinks resolved).
    async fn existing(&self, key: &str) -> Result<Option<PathBuf>> {
        let path = self.path_of(key)?;
        let root = self.root.clone();
        Ok(tokio::task::spawn_blocking(move || {
            let (root, path) = (root.canonicalize().ok()?, path.canonicalize().ok()?);
            (path.starts_with(&root) && path.is_file()).then_some(path)
        })
        .await?)
    }
}

fn media_error(key: &str, source: io::Error) -> Error {
    Error::Media { key: key.to_owned(), source }
}

#[async_trait]
impl MediaStore for LocalMediaStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.path_of(key)?;
        let key = key.to_owned();
        tokio::task::spawn_blocking(move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            // Written beside the target, then renamed over it: a rename is atomic.
            let partial = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
            std::fs::write(&partial, &bytes)?;
            std::fs::rename(&partial, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&partial);
            })
        })
        .await?
        .map_err(|source| media_error(&key, source))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.existing(key).await? else {
            return Ok(None);
        };
        match tokio::fs::read(path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(media_error(key, error)),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.existing(key).await?.is_some())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(media_error(key, error)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sy-media-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[tokio::test]
    async fn files_round_trip_and_replace() {
        let dir = scratch();
        let store = LocalMediaStore::new(&dir);
        store.put("images/1/2.png", b"first".to_vec()).await.expect("put");
        store.put("images/1/2.png", b"second".to_vec()).await.expect("put again");
        assert_eq!(store.get("images/1/2.png").await.expect("get"), Some(b"second".to_vec()));
        assert!(store.exists("images/1/2.png").await.expect("exists"));
        assert_eq!(std::fs::read_dir(dir.join("images/1")).expect("dir").count(), 1, "no partial files left");
        store.delete("images/1/2.png").await.expect("delete");
        store.delete("images/1/2.png").await.expect("delete twice");
        assert_eq!(store.get("images/1/2.png").await.expect("get"), None);
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_directory() {
        let dir = scratch();
        let outside = scratch();
        std::fs::write(outside.join("secret"), b"no").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, dir.join("link")).expect("symlink");
        let store = LocalMediaStore::new(&dir);
        for key in ["../secret", "/etc/passwd", "", "a/../../secret"] {
            assert!(store.get(key).await.is_err(), "{key}");
            assert!(store.put(key, vec![1]).await.is_err(), "{key}");
        }
        assert_eq!(store.get("link/secret").await.expect("refused quietly"), None);
        assert!(!store.exists("link/secret").await.expect("refused quietly"));
        std::fs::remove_dir_all(dir).ok();
        std::fs::remove_dir_all(outside).ok();
    }
}
