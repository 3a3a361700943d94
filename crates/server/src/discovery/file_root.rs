//! The one folder a discovery source may read files from (`--discovery-file-root`): a
//! `file:///...` source (NGINX's saved `nginx -T` output) is written through the API, so
//! without a confinement any token that may write sources could make the server read any file
//! it can. No folder configured means file sources are refused; a path is allowed only when it
//! stays under the folder with `..` and every symlink resolved, checked again on the file
//! actually opened.

use std::path::{Component, Path, PathBuf};

use crate::discovery::source::ListError;

/// The flag and environment variable that set the folder, named in every refusal.
pub const FLAG: &str = "--discovery-file-root (VEDETTE_DISCOVERY_FILE_ROOT)";

/// The folder file sources may read under, canonical (no symlink, no `..`); none: file
/// sources are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRoot(Option<PathBuf>);

/// The root when none is configured.
pub static NO_FILE_ROOT: FileRoot = FileRoot(None);

/// Why a folder cannot be the file root.
#[derive(Debug, thiserror::Error)]
#[error("{FLAG} must name an existing folder: {path}: {reason}")]
pub struct BadFileRoot {
    /// The folder as given.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FileRoot {
    /// The folder `dir` (it must exist; symlinks in its own path are resolved now).
    pub fn new(dir: &Path) -> Result<Self, BadFileRoot> {
        let bad = |reason: String| BadFileRoot {
            path: dir.display().to_string(),
            reason,
        };
        let canonical = dir.canonicalize().map_err(|e| bad(e.kind().to_string()))?;
        if !canonical.is_dir() {
            return Err(bad("not a folder".to_owned()));
        }
        Ok(Self(Some(canonical)))
    }

    /// The folder, if one is configured.
    pub fn dir(&self) -> Option<&Path> {
        self.0.as_deref()
    }

    /// Why the source URL `url` (`file:///...`) may not be read, judged by its text alone
    /// (`..` resolved, symlinks not followed), for refusing a source when it is written: the
    /// file need not exist yet. `None` when it may be.
    pub fn refuse_url(&self, url: &str) -> Option<String> {
        self.lexical(url).err()
    }

    /// The path under the root that `url` names, `..` resolved by its text.
    fn lexical(&self, url: &str) -> Result<PathBuf, String> {
        let Some(root) = &self.0 else {
            return Err(format!(
                "this server reads no files for discovery: start it with {FLAG} set to the \
                 folder the `nginx -T` output is saved in"
            ));
        };
        let outside = || {
            format!(
                "expected a file:///... path under the server's discovery file root {}",
                root.display()
            )
        };
        let path = url
            .strip_prefix("file://")
            .filter(|p| p.starts_with('/'))
            .ok_or_else(outside)?;
        let mut normal = PathBuf::new();
        for part in Path::new(path).components() {
            match part {
                Component::RootDir => normal.push("/"),
                Component::CurDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    normal.pop();
                }
                Component::Normal(name) => normal.push(name),
            }
        }
        if normal.starts_with(root) && normal != *root {
            Ok(normal)
        } else {
            Err(outside())
        }
    }

    /// Opens the regular file `url` names for reading, if it is under the root once `..` and
    /// symlinks are resolved; the file opened is checked again (a symlink swapped in after
    /// the check is caught). Errors name `connection.url` and never hold file content.
    pub async fn open(&self, url: &str) -> Result<tokio::fs::File, ListError> {
        let refused = |reason: String| ListError::File(format!("connection.url: {reason}"));
        let path = self.lexical(url).map_err(refused)?;
        let root = self.0.as_deref().unwrap_or(Path::new("/"));
        let shown = path.display().to_string();
        let unreadable = |e: std::io::Error| ListError::Request {
            path: shown.clone(),
            reason: e.kind().to_string(),
        };
        let leads_outside = || {
            refused(format!(
                "{shown} leads outside the server's discovery file root {} (through a symlink)",
                root.display()
            ))
        };
        let canonical = tokio::fs::canonicalize(&path).await.map_err(unreadable)?;
        if !canonical.starts_with(root) {
            return Err(leads_outside());
        }
        let file = tokio::fs::File::open(&canonical)
            .await
            .map_err(unreadable)?;
        if !file.metadata().await.map_err(unreadable)?.is_file() {
            return Err(refused(format!("{shown} is not a regular file")));
        }
        if let Some(opened) = opened_path(&file).await
            && !opened.starts_with(root)
        {
            return Err(leads_outside());
        }
        Ok(file)
    }
}

/// Where the open file `file` really is (Linux: its `/proc/self/fd` link); `None` where the
/// system does not say.
async fn opened_path(file: &tokio::fs::File) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let link = format!("/proc/self/fd/{}", file.as_raw_fd());
        tokio::fs::read_link(link).await.ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with_file() -> (tempfile::TempDir, FileRoot) {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir(dir.path().join("root")).expect("root");
        std::fs::write(
            dir.path().join("root/nginx-T.txt"),
            "# configuration file /x:\n",
        )
        .expect("dump");
        std::fs::write(dir.path().join("secret.txt"), "password=hunter2\n").expect("secret");
        let root = FileRoot::new(&dir.path().join("root")).expect("root");
        (dir, root)
    }

    fn url(path: &Path) -> String {
        format!("file://{}", path.display())
    }

    #[tokio::test]
    async fn a_file_under_the_root_is_opened() {
        let (dir, root) = root_with_file();
        let good = url(&dir.path().join("root/nginx-T.txt"));
        assert_eq!(root.refuse_url(&good), None);
        root.open(&good).await.expect("opened");
    }

    #[tokio::test]
    async fn dot_dot_out_of_the_root_is_refused() {
        let (dir, root) = root_with_file();
        let sneaky = format!("{}/../secret.txt", url(&dir.path().join("root")));
        let said = root.refuse_url(&sneaky).expect("refused when written");
        assert!(
            said.contains("under the server's discovery file root"),
            "{said}"
        );
        let error = root.open(&sneaky).await.expect_err("refused").to_string();
        assert!(error.starts_with("connection.url: expected"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        // `..` that stays inside is fine.
        let inside = format!("{}/sub/../nginx-T.txt", url(&dir.path().join("root")));
        assert_eq!(root.refuse_url(&inside), None);
        root.open(&inside).await.expect("opened");
    }

    #[tokio::test]
    async fn a_symlink_out_of_the_root_is_refused() {
        let (dir, root) = root_with_file();
        let link = dir.path().join("root/link.txt");
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), &link).expect("symlink");
        // Its text is under the root, so it is accepted when written...
        assert_eq!(root.refuse_url(&url(&link)), None);
        // ...but not read.
        let error = root
            .open(&url(&link))
            .await
            .expect_err("refused")
            .to_string();
        assert!(error.contains("leads outside"), "{error}");
        assert!(
            !error.contains("secret.txt") && !error.contains("hunter2"),
            "{error}"
        );
        // A symlinked folder out of the root too.
        std::os::unix::fs::symlink(dir.path(), dir.path().join("root/up")).expect("symlink");
        let through = url(&dir.path().join("root/up/secret.txt"));
        let error = root.open(&through).await.expect_err("refused").to_string();
        assert!(error.contains("leads outside"), "{error}");
    }

    #[tokio::test]
    async fn an_absolute_path_outside_and_odd_urls_are_refused() {
        let (dir, root) = root_with_file();
        for bad in [
            url(&dir.path().join("secret.txt")),
            "file:///etc/passwd".to_owned(),
            "file://etc/passwd".to_owned(),
            "/etc/passwd".to_owned(),
            url(root.dir().expect("dir")),
        ] {
            assert!(root.refuse_url(&bad).is_some(), "{bad}");
            let error = root.open(&bad).await.expect_err("refused").to_string();
            assert!(
                error.starts_with("connection.url: expected"),
                "{bad}: {error}"
            );
        }
        let fifo_dir = root.dir().expect("dir").join("sub");
        std::fs::create_dir(&fifo_dir).expect("sub");
        let error = root.open(&url(&fifo_dir)).await.expect_err("refused");
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }

    #[tokio::test]
    async fn without_a_root_every_file_is_refused() {
        let (dir, _) = root_with_file();
        let good = url(&dir.path().join("root/nginx-T.txt"));
        let said = NO_FILE_ROOT.refuse_url(&good).expect("refused");
        assert!(said.contains("--discovery-file-root"), "{said}");
        let error = NO_FILE_ROOT.open(&good).await.expect_err("refused");
        assert!(
            error.to_string().contains("reads no files for discovery"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_or_plain_file_root_is_refused_at_start() {
        let (dir, _) = root_with_file();
        let error = FileRoot::new(&dir.path().join("none")).expect_err("missing");
        assert!(
            error.to_string().contains("--discovery-file-root"),
            "{error}"
        );
        let error = FileRoot::new(&dir.path().join("secret.txt")).expect_err("a file");
        assert!(error.to_string().contains("not a folder"), "{error}");
    }
}
