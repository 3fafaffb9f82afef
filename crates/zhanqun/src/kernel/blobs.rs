//! File storage: attachments and letters' files, content-addressed by SHA-256 under
//! `DATA_DIR/files/`, written atomically (a temporary file, then a rename).

use std::path::PathBuf;

use super::error::{AppError, AppResult};

#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn new(data_dir: &std::path::Path) -> Blobs {
        Blobs { root: data_dir.join("files") }
    }

    /// Where the file with this SHA-256 (hex) lives.
    pub fn path(&self, sha: &str) -> PathBuf {
        let prefix = sha.get(..2).unwrap_or("00");
        self.root.join(prefix).join(sha)
    }

    /// Stores `bytes` under their SHA-256 unless they are there already.
    pub async fn store(&self, sha: &str, bytes: &[u8]) -> AppResult<()> {
        let path = self.path(sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(());
        }
        let dir = path.parent().ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad file path")))?;
        tokio::fs::create_dir_all(dir).await?;
        let tmp = dir.join(format!(".{sha}.{}.tmp", std::process::id()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::File::open(&tmp).await?.sync_all().await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(())
    }

    /// Reads a stored file.
    pub async fn read(&self, sha: &str) -> AppResult<Vec<u8>> {
        Ok(tokio::fs::read(self.path(sha)).await?)
    }
}
