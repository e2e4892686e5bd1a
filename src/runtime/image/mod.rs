//! The image store: root filesystems that containers start from.
//!
//! Layout under the store directory (`paths.images()`):
//!
//! ```text
//! <dir>/<name>/rootfs/        the image's root filesystem
//! <dir>/<name>/image.json     name, creation time, source, entry count
//! <dir>/host/rootfs/          the generated skeleton of the built-in `host` image
//! <dir>/.import-<name>-<id>/  an import in progress (never listed)
//! ```
//!
//! Imports and the `host` skeleton are built in a dot-directory and renamed
//! into place, so an image directory either exists complete or not at all,
//! even if hako is killed half-way or two imports race.
//!
//! - `extract`: reading a tar / tar.gz / tar.zst safely.
//! - `copy`: `copy_tree`, for directory imports and the no-overlayfs fallback.
//! - `host`: the built-in `host` image.
//! - `attrs`: owner, mode, time and xattr helpers shared by the above.

mod attrs;
mod copy;
mod extract;
mod host;

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::runtime::text::escape_control;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use copy::copy_tree;

/// The name of the built-in image made from the host's own /usr, /bin, /lib.
pub const HOST_IMAGE: &str = "host";

const MAX_NAME_LEN: usize = 64;
const METADATA_FILE: &str = "image.json";

#[derive(Debug, Error)]
pub enum ImageError {
    #[error("no image named {0:?}: import one with `hako image import NAME FILE` or use the built-in `host`")]
    NotFound(String),

    #[error("invalid image name {name:?}: {reason}; use 1 to 64 lowercase letters, digits, '.', '_' or '-', not starting with '.'")]
    InvalidName { name: String, reason: &'static str },

    #[error("{name:?} is the built-in host image and cannot be {action}; use another name")]
    Builtin { name: String, action: &'static str },

    #[error("image {0:?} already exists: remove it first with `hako image rm {0}`")]
    AlreadyExists(String),

    #[error("image {name:?} is used by container(s) {}: remove them first with `hako rm`", users.join(", "))]
    InUse { name: String, users: Vec<String> },

    #[error("cannot read import source {path}: {error}")]
    Source { path: PathBuf, error: io::Error },

    #[error("cannot read archive {source_desc}: {error}; is it a tar, tar.gz or tar.zst file?")]
    Archive {
        source_desc: String,
        error: io::Error,
    },

    /// The archive is hostile or malformed; nothing of it was kept.
    /// `entry` is escaped for the terminal (`text::escape_control`).
    #[error("refusing archive: entry \"{entry}\" {reason}; nothing was imported")]
    Refused { entry: String, reason: String },

    #[error(
        "extracting entry \"{entry}\" to {}: {error}; nothing was imported",
        escape_control(&path.to_string_lossy())
    )]
    Extract {
        entry: String,
        path: PathBuf,
        error: io::Error,
    },

    #[error("{action} {path}: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },

    #[error("image metadata {path} is unreadable: {error}; remove the image with `hako image rm` and import it again")]
    Metadata {
        path: PathBuf,
        error: serde_json::Error,
    },

    #[error("{0}")]
    Other(String),
}

impl ImageError {
    fn io(action: &'static str, path: &Path, error: io::Error) -> ImageError {
        ImageError::Io {
            action,
            path: path.to_path_buf(),
            error,
        }
    }
}

/// An image ready to be a container's lower layer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Image {
    pub name: String,
    /// The directory that becomes the container's read-only lower layer.
    pub rootfs: PathBuf,
    /// Host directories to bind read-only at the same path inside the
    /// container (the built-in `host` image: /usr, /bin, /lib ...).
    pub host_binds: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Create device nodes found in the archive instead of skipping them.
    pub allow_devices: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// Entries written into the rootfs (skipped ones not counted).
    pub entries: u64,
    /// Things that were skipped or not kept; the import still succeeded.
    pub warnings: Vec<String>,
    /// Where the imported root filesystem now lives.
    pub rootfs: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub name: String,
    pub builtin: bool,
    pub size_bytes: u64,
    /// Import time, unix seconds (`None` for `host` or unreadable metadata).
    pub created: Option<u64>,
    /// Where the image was imported from, as recorded at import time.
    pub source: Option<String>,
}

/// What `image.json` records about an imported image.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ImageMetadata {
    name: String,
    /// Unix seconds.
    created: u64,
    source: String,
    entries: u64,
}

pub struct ImageStore {
    dir: PathBuf,
}

impl ImageStore {
    pub fn new(dir: PathBuf) -> ImageStore {
        ImageStore { dir }
    }

    /// Imports `source` (a tar, tar.gz or tar.zst file, a directory, or `-`
    /// for a tar stream on stdin) as image `name`.
    pub fn import(
        &self,
        name: &str,
        source: &Path,
        options: &ImportOptions,
    ) -> Result<ImportReport, ImageError> {
        validate_name(name)?;
        if name == HOST_IMAGE {
            return Err(ImageError::Builtin {
                name: name.to_string(),
                action: "imported over",
            });
        }
        let image_dir = self.dir.join(name);
        if fs::symlink_metadata(&image_dir).is_ok() {
            return Err(ImageError::AlreadyExists(name.to_string()));
        }
        self.create_store_dir()?;

        let temp = TempDir::create(&self.dir, &format!(".import-{name}"))?;
        let rootfs = temp.path.join("rootfs");
        fs::create_dir(&rootfs)
            .map_err(|e| ImageError::io("creating image directory", &rootfs, e))?;

        let (description, extracted) = fill_rootfs(source, &rootfs, options)?;

        let metadata = ImageMetadata {
            name: name.to_string(),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            source: description,
            entries: extracted.entries,
        };
        let metadata_path = temp.path.join(METADATA_FILE);
        let json = serde_json::to_vec_pretty(&metadata).map_err(|error| ImageError::Metadata {
            path: metadata_path.clone(),
            error,
        })?;
        fs::write(&metadata_path, json)
            .map_err(|e| ImageError::io("writing image metadata", &metadata_path, e))?;

        // rename() onto an existing non-empty directory fails, so a racing
        // import of the same name loses cleanly instead of mixing trees.
        match fs::rename(&temp.path, &image_dir) {
            Ok(()) => temp.keep(),
            Err(_) if fs::symlink_metadata(&image_dir).is_ok() => {
                return Err(ImageError::AlreadyExists(name.to_string()));
            }
            Err(e) => return Err(ImageError::io("moving imported image into", &image_dir, e)),
        }

        Ok(ImportReport {
            entries: extracted.entries,
            warnings: extracted.warnings,
            rootfs: image_dir.join("rootfs"),
        })
    }

    /// All images, the built-in `host` first, then by name.
    pub fn list(&self) -> Result<Vec<ImageInfo>, ImageError> {
        let mut images = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => Some(entries),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(ImageError::io("reading image store", &self.dir, e)),
        };
        for entry in entries.into_iter().flatten() {
            let entry = entry.map_err(|e| ImageError::io("reading image store", &self.dir, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            // Dot-dirs are imports or removals in progress; `host` is the
            // generated skeleton, listed separately below.
            if name == HOST_IMAGE || validate_name(&name).is_err() {
                continue;
            }
            let rootfs = entry.path().join("rootfs");
            if !is_real_dir(&rootfs) {
                continue;
            }
            let metadata = read_metadata(&entry.path().join(METADATA_FILE)).ok();
            images.push(ImageInfo {
                size_bytes: tree_size(&rootfs)
                    .map_err(|e| ImageError::io("measuring image", &rootfs, e))?,
                created: metadata.as_ref().map(|m| m.created),
                source: metadata.map(|m| m.source),
                name,
                builtin: false,
            });
        }
        images.sort_by(|a, b| a.name.cmp(&b.name));
        images.insert(
            0,
            ImageInfo {
                name: HOST_IMAGE.to_string(),
                builtin: true,
                size_bytes: 0,
                created: None,
                source: Some("built-in: the host's /usr, /bin and /lib, read-only".to_string()),
            },
        );
        Ok(images)
    }

    /// The image `name`; for `host` its skeleton is generated on first use.
    pub fn open(&self, name: &str) -> Result<Image, ImageError> {
        validate_name(name)?;
        if name == HOST_IMAGE {
            self.create_store_dir()?;
            return host::open(&self.dir, Path::new("/"));
        }
        let rootfs = self.dir.join(name).join("rootfs");
        if is_real_dir(&rootfs) {
            Ok(Image {
                name: name.to_string(),
                rootfs,
                host_binds: vec![],
            })
        } else {
            Err(ImageError::NotFound(name.to_string()))
        }
    }

    /// Removes image `name`. `users` are the containers still based on it
    /// (the caller knows them); any user makes this refuse.
    pub fn remove(&self, name: &str, users: &[String]) -> Result<(), ImageError> {
        validate_name(name)?;
        if name == HOST_IMAGE {
            return Err(ImageError::Builtin {
                name: name.to_string(),
                action: "removed",
            });
        }
        let image_dir = self.dir.join(name);
        if !is_real_dir(&image_dir) {
            return Err(ImageError::NotFound(name.to_string()));
        }
        if !users.is_empty() {
            return Err(ImageError::InUse {
                name: name.to_string(),
                users: users.to_vec(),
            });
        }
        // Rename first so that the image disappears at once: a slow or
        // failed delete never leaves a half-image that `list` would show.
        let doomed = self
            .dir
            .join(format!(".remove-{name}-{}", uuid::Uuid::new_v4().simple()));
        fs::rename(&image_dir, &doomed)
            .map_err(|e| ImageError::io("removing image", &image_dir, e))?;
        fs::remove_dir_all(&doomed).map_err(|e| {
            ImageError::io(
                "removing image (the image is gone; delete the leftover directory by hand)",
                &doomed,
                e,
            )
        })
    }

    fn create_store_dir(&self) -> Result<(), ImageError> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| ImageError::io("creating image store", &self.dir, e))
    }
}

/// Fills `rootfs` from the import source; returns a description of the
/// source for `image.json` and what was extracted.
fn fill_rootfs(
    source: &Path,
    rootfs: &Path,
    options: &ImportOptions,
) -> Result<(String, extract::Extracted), ImageError> {
    if source == Path::new("-") {
        let extracted = extract::extract(Box::new(io::stdin()), "stdin", rootfs, options)?;
        return Ok(("stdin".to_string(), extracted));
    }
    let source_error = |error| ImageError::Source {
        path: source.to_path_buf(),
        error,
    };
    let meta = fs::metadata(source).map_err(source_error)?;
    let absolute = std::path::absolute(source).unwrap_or_else(|_| source.to_path_buf());

    if meta.is_dir() {
        let copied = copy::copy_tree_report(source, rootfs)
            .map_err(|e| ImageError::io("importing directory", source, e))?;
        let warnings = copied
            .skipped
            .iter()
            .map(|p| {
                format!(
                    "skipped {}: sockets and device nodes are not copied from directories",
                    p.display()
                )
            })
            .collect();
        let extracted = extract::Extracted {
            entries: copied.entries,
            warnings,
        };
        return Ok((format!("directory {}", absolute.display()), extracted));
    }

    let file = fs::File::open(source).map_err(source_error)?;
    let description = format!("file {}", absolute.display());
    let reader = Box::new(io::BufReader::new(file));
    let extracted = extract::extract(reader, &description, rootfs, options)?;
    Ok((description, extracted))
}

/// Checks an image name: it becomes a directory name and appears in
/// commands, so it must be plain and unable to escape the store.
pub fn validate_name(name: &str) -> Result<(), ImageError> {
    let invalid = |reason| ImageError::InvalidName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid("it is longer than 64 characters"));
    }
    if name.starts_with('.') {
        return Err(invalid("it starts with '.'"));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if !name.chars().all(allowed) {
        return Err(invalid("it contains a character that is not allowed"));
    }
    Ok(())
}

fn read_metadata(path: &Path) -> Result<ImageMetadata, ImageError> {
    let bytes = fs::read(path).map_err(|e| ImageError::io("reading image metadata", path, e))?;
    serde_json::from_slice(&bytes).map_err(|error| ImageError::Metadata {
        path: path.to_path_buf(),
        error,
    })
}

/// A directory, and not a symlink to one.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path)
        .map(|m| m.is_dir())
        .unwrap_or(false)
}

/// Sum of regular file sizes under `root`, each hard-linked file counted
/// once, symlinks not followed.
fn tree_size(root: &Path) -> io::Result<u64> {
    fn walk(dir: &Path, seen: &mut HashSet<(u64, u64)>, total: &mut u64) -> io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            // Removed while we looked: it no longer counts.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let meta = match fs::symlink_metadata(entry.path()) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if meta.is_dir() {
                walk(&entry.path(), seen, total)?;
            } else if meta.is_file() && (meta.nlink() == 1 || seen.insert((meta.dev(), meta.ino())))
            {
                *total += meta.len();
            }
        }
        Ok(())
    }
    let mut total = 0;
    walk(root, &mut HashSet::new(), &mut total)?;
    Ok(total)
}

/// A dot-directory in the store that is deleted on drop unless kept, so
/// every early return or panic during an import cleans up after itself.
struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    fn create(parent: &Path, prefix: &str) -> Result<TempDir, ImageError> {
        let path = parent.join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        // 0700: a half-extracted image may hold setuid binaries that no
        // other host user should be able to reach. Imported images keep it.
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| ImageError::io("creating temporary directory", &path, e))?;
        Ok(TempDir { path, keep: false })
    }

    fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests;
