//! Safe extraction of an untrusted tar stream into a fresh directory.
//!
//! The archive may be hostile. Every entry is checked before anything is
//! written for it, and the first bad entry refuses the whole archive (the
//! caller then deletes the half-made directory):
//!
//! - paths must be relative and free of `..`;
//! - no entry may be reached through a symlink that an earlier entry
//!   created (`evil -> /etc` then `evil/passwd`): every parent directory of
//!   the destination is checked with `symlink_metadata`;
//! - hard links must name an earlier entry by a relative, `..`-free path
//!   that does not pass through a symlink either;
//! - an existing file or symlink at the destination is unlinked before
//!   the new entry is created, so nothing is ever written through a link.
//!
//! Symlinks themselves may point anywhere: they are resolved inside the
//! container, never by this code.
//!
//! We do our own writing rather than `tar::Entry::unpack_in`, because that
//! silently skips `..` entries instead of refusing, turns device nodes and
//! FIFOs into regular files, fails hard on xattrs the filesystem cannot
//! keep, and sets directory times before their contents are written.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{AtFlags, AT_FDCWD};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use nix::unistd::linkat;

use super::attrs::{self, Attrs};
use super::{ImageError, ImportOptions};
use crate::runtime::text::escape_control;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const XATTR_PAX_PREFIX: &[u8] = b"SCHILY.xattr.";

type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// What an extraction produced.
#[derive(Debug, Default)]
pub(super) struct Extracted {
    pub entries: u64,
    pub warnings: Vec<String>,
}

/// Extracts the tar stream `raw` (plain, gzip or zstd, detected from its
/// first bytes) into the existing, empty directory `root`.
pub(super) fn extract(
    raw: Box<dyn Read>,
    source_desc: &str,
    root: &Path,
    options: &ImportOptions,
) -> Result<Extracted, ImageError> {
    let archive_error = |error: io::Error| ImageError::Archive {
        source_desc: source_desc.to_string(),
        error,
    };
    let reader = decompress(raw).map_err(archive_error)?;
    let mut archive = tar::Archive::new(reader);
    let mut extractor = Extractor {
        root,
        allow_devices: options.allow_devices,
        // Only root can give files away; anyone else keeps them as their own.
        chown: nix::unistd::geteuid().is_root(),
        seen: 0,
        done: Extracted::default(),
        dirs: BTreeMap::new(),
        xattr_failures: 0,
        first_xattr_failure: None,
    };
    for entry in archive.entries().map_err(archive_error)? {
        extractor.entry(entry.map_err(archive_error)?)?;
    }
    if extractor.seen == 0 {
        return Err(archive_error(io::Error::new(
            io::ErrorKind::InvalidData,
            "it holds no entries",
        )));
    }
    extractor.finish()
}

/// Wraps `raw` in the decompressor its magic bytes call for. The file
/// name is not consulted: `.tar` files are often compressed and stdin has
/// no name at all.
fn decompress(mut raw: Box<dyn Read>) -> io::Result<Box<dyn Read>> {
    let mut magic = [0u8; 4];
    let mut len = 0;
    while len < magic.len() {
        match raw.read(&mut magic[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let magic = &magic[..len];
    // Put the peeked bytes back in front, since stdin cannot seek.
    let whole = io::Cursor::new(magic.to_vec()).chain(raw);
    Ok(if magic.starts_with(&GZIP_MAGIC) {
        // Multi-member: `cat a.gz b.gz` and some compressors produce several.
        Box::new(flate2::read::MultiGzDecoder::new(whole))
    } else if magic == ZSTD_MAGIC {
        Box::new(zstd::stream::read::Decoder::new(whole)?)
    } else {
        Box::new(whole)
    })
}

/// Why a path from the archive cannot be used.
enum BadPath {
    Absolute,
    DotDot,
}

/// Turns an archive path into a relative one: `./bin/sh`, `bin/sh` and
/// `bin//sh` all become `bin/sh`; `./` and `.` become the empty path (the
/// root itself). Absolute paths and `..` are refused, not repaired, since
/// an archive holding them was not made by exporting a filesystem.
fn relative_path(raw: &[u8]) -> Result<PathBuf, BadPath> {
    if raw.starts_with(b"/") {
        return Err(BadPath::Absolute);
    }
    let mut path = PathBuf::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(BadPath::DotDot),
            part => path.push(OsStr::from_bytes(part)),
        }
    }
    Ok(path)
}

/// Why the parent directories of a path cannot be used.
enum BadParent {
    Symlink(PathBuf),
    NotDir(PathBuf),
    Missing(PathBuf),
    Io(PathBuf, io::Error),
}

struct Extractor<'a> {
    root: &'a Path,
    allow_devices: bool,
    chown: bool,
    /// Entries read, including skipped ones.
    seen: u64,
    done: Extracted,
    /// Directory attributes, applied once everything is extracted: writing
    /// into a directory changes its mtime, so setting it earlier is lost.
    /// Sorted by path, so reverse order handles children before parents.
    dirs: BTreeMap<PathBuf, (Attrs, Xattrs)>,
    xattr_failures: u64,
    first_xattr_failure: Option<String>,
}

impl Extractor<'_> {
    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ImageError> {
        let raw_path = entry.path_bytes().into_owned();
        // The name is the archive's: every message that quotes it reaches the
        // operator's terminal, so its control characters are escaped once here.
        let name = escape_control(&String::from_utf8_lossy(&raw_path)).into_owned();
        let kind = entry.header().entry_type();
        // Archive-wide metadata (`git archive` writes the commit id here).
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        self.seen += 1;
        let refuse = |reason: String| ImageError::Refused {
            entry: name.clone(),
            reason,
        };

        let rel = relative_path(&raw_path).map_err(|bad| {
            refuse(match bad {
                BadPath::Absolute => {
                    "has an absolute path (image archives hold paths relative to the root)".into()
                }
                BadPath::DotDot => {
                    "has a '..' component, which could reach outside the image".into()
                }
            })
        })?;
        let is_dir = kind.is_dir() || (kind.is_file() && raw_path.ends_with(b"/"));
        let is_file = kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse();
        let is_device = kind.is_character_special() || kind.is_block_special();

        let header = entry.header();
        let attrs = header_attrs(header).map_err(|e| refuse(format!("has a bad header: {e}")))?;
        let device = if is_device {
            device_number(header).map_err(|e| refuse(format!("has a bad device number: {e}")))?
        } else {
            0
        };
        let xattrs =
            pax_xattrs(&mut entry).map_err(|e| refuse(format!("has bad extended headers: {e}")))?;

        if rel.as_os_str().is_empty() {
            if !is_dir {
                return Err(refuse("has an empty path but is not a directory".into()));
            }
            // `./`: the attributes of the rootfs root itself.
            self.dirs.insert(rel, (attrs, xattrs));
            self.done.entries += 1;
            return Ok(());
        }
        if is_device && !self.allow_devices {
            self.done.warnings.push(format!(
                "skipped device node {name}: use --allow-devices to keep device nodes"
            ));
            return Ok(());
        }
        let supported = is_dir
            || is_file
            || is_device
            || kind.is_symlink()
            || kind.is_hard_link()
            || kind.is_fifo();
        if !supported {
            self.done.warnings.push(format!(
                "skipped {name}: unsupported tar entry type {:?}",
                kind.as_byte() as char
            ));
            return Ok(());
        }

        self.check_parents(&rel, true).map_err(|bad| {
            refuse(match bad {
                BadParent::Symlink(p) => format!(
                    "passes through the symlink {:?}, which could point outside the image",
                    p.display()
                ),
                BadParent::NotDir(p) => {
                    format!("is inside {:?}, which is not a directory", p.display())
                }
                BadParent::Io(p, e) => {
                    format!(
                        "needs the directory {:?}, which could not be made: {e}",
                        p.display()
                    )
                }
                BadParent::Missing(p) => {
                    format!("needs the missing directory {:?}", p.display())
                }
            })
        })?;
        let dst = self.root.join(&rel);
        let extract_error = |error: io::Error| ImageError::Extract {
            entry: name.clone(),
            path: dst.clone(),
            error,
        };

        let existing_dir = self.clear_destination(&dst, is_dir).map_err(|e| match e {
            Some(e) => extract_error(e),
            None => refuse("would replace a directory with a non-directory".into()),
        })?;

        if is_dir {
            if !existing_dir {
                make_dir(&dst).map_err(extract_error)?;
            }
            self.dirs.insert(rel, (attrs, xattrs));
        } else if kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            let target_rel = self.hard_link_target(&target).map_err(refuse)?;
            // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never
            // what it points to.
            linkat(
                AT_FDCWD,
                &self.root.join(target_rel),
                AT_FDCWD,
                &dst,
                AtFlags::empty(),
            )
            .map_err(|e| extract_error(e.into()))?;
            // The link shares its inode, and so its attributes, with the target.
        } else if kind.is_symlink() {
            let target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            if target.is_empty() {
                return Err(refuse("is a symlink with an empty target".into()));
            }
            std::os::unix::fs::symlink(OsStr::from_bytes(&target), &dst).map_err(extract_error)?;
            attrs::apply(&dst, &attrs, self.chown, true).map_err(extract_error)?;
            self.set_xattrs(&dst, &name, &xattrs);
        } else if is_file {
            // create_new + O_NOFOLLOW: the destination was just cleared, so
            // anything found there now is an error, not something to follow.
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&dst)
                .map_err(extract_error)?;
            let expected = entry.size();
            let written = io::copy(&mut entry, &mut file).map_err(extract_error)?;
            // A short read is how a truncated archive shows up here.
            if written != expected {
                return Err(extract_error(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the archive ends {written} bytes into this {expected}-byte file: \
                         it is truncated; export or download it again"
                    ),
                )));
            }
            drop(file);
            attrs::apply(&dst, &attrs, self.chown, false).map_err(extract_error)?;
            self.set_xattrs(&dst, &name, &xattrs);
        } else {
            let node_kind = if kind.is_fifo() {
                SFlag::S_IFIFO
            } else if kind.is_block_special() {
                SFlag::S_IFBLK
            } else {
                SFlag::S_IFCHR
            };
            mknod(&dst, node_kind, Mode::from_bits_truncate(0o600), device)
                .map_err(|e| extract_error(e.into()))?;
            attrs::apply(&dst, &attrs, self.chown, false).map_err(extract_error)?;
            self.set_xattrs(&dst, &name, &xattrs);
        }
        self.done.entries += 1;
        Ok(())
    }

    /// Checks every parent directory of `rel` (not `rel` itself): each must
    /// be a real directory, not a symlink. Missing ones are created when
    /// `create` is set, since archives may omit directory entries.
    fn check_parents(&self, rel: &Path, create: bool) -> Result<(), BadParent> {
        let mut current = self.root.to_path_buf();
        let mut shown = PathBuf::new();
        let parents = rel.parent().map(Path::components).into_iter().flatten();
        for part in parents {
            let Component::Normal(part) = part else {
                continue;
            };
            current.push(part);
            shown.push(part);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => return Err(BadParent::Symlink(shown)),
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(BadParent::NotDir(shown)),
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                    make_dir(&current).map_err(|e| BadParent::Io(shown.clone(), e))?;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(BadParent::Missing(shown))
                }
                Err(e) => return Err(BadParent::Io(shown, e)),
            }
        }
        Ok(())
    }

    /// Makes room for a new entry at `dst`. Returns whether a directory is
    /// already there (kept for a directory entry). `Err(None)` means the
    /// entry would replace a directory, which archives have no business doing.
    fn clear_destination(&self, dst: &Path, is_dir: bool) -> Result<bool, Option<io::Error>> {
        match fs::symlink_metadata(dst) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Some(e)),
            Ok(meta) if meta.is_dir() => {
                if is_dir {
                    Ok(true)
                } else {
                    Err(None)
                }
            }
            // A file or symlink from an earlier entry: unlink it so the new
            // entry replaces it instead of writing through it.
            Ok(_) => fs::remove_file(dst).map(|()| false).map_err(Some),
        }
    }

    /// Validates a hard link target and returns it relative to the root.
    fn hard_link_target(&self, raw: &[u8]) -> Result<PathBuf, String> {
        let shown = String::from_utf8_lossy(raw);
        let rel = relative_path(raw).map_err(|bad| match bad {
            BadPath::Absolute => format!(
                "is a hard link to the absolute path {shown:?} (hard links must point to an earlier entry)"
            ),
            BadPath::DotDot => format!(
                "is a hard link to {shown:?}, which has a '..' component that could reach outside the image"
            ),
        })?;
        if rel.as_os_str().is_empty() {
            return Err("is a hard link without a target".into());
        }
        let not_earlier = || {
            format!(
                "is a hard link to {shown:?}, which is not an earlier file entry of the archive"
            )
        };
        self.check_parents(&rel, false).map_err(|bad| match bad {
            BadParent::Symlink(p) => format!(
                "is a hard link to {shown:?}, which passes through the symlink {:?}",
                p.display()
            ),
            BadParent::NotDir(_) | BadParent::Missing(_) | BadParent::Io(..) => not_earlier(),
        })?;
        match fs::symlink_metadata(self.root.join(&rel)) {
            Ok(meta) if meta.is_dir() => Err(format!(
                "is a hard link to the directory {shown:?}, which is not allowed"
            )),
            Ok(_) => Ok(rel),
            Err(_) => Err(not_earlier()),
        }
    }

    /// Sets xattrs where the filesystem allows; failures are counted and
    /// reported once as a warning rather than failing the import, because
    /// many filesystems (or a non-root caller) cannot keep some of them.
    fn set_xattrs(&mut self, path: &Path, entry: &str, xattrs: &Xattrs) {
        for (key, value) in xattrs {
            if let Err(e) = attrs::set_xattr(path, key, value) {
                self.xattr_failures += 1;
                self.first_xattr_failure.get_or_insert_with(|| {
                    let key = String::from_utf8_lossy(key);
                    format!("{} on {entry}: {e}", escape_control(&key))
                });
            }
        }
    }

    /// Applies the postponed directory attributes and assembles warnings.
    fn finish(mut self) -> Result<Extracted, ImageError> {
        let dirs = std::mem::take(&mut self.dirs);
        for (rel, (attrs, xattrs)) in dirs.iter().rev() {
            let path = self.root.join(rel);
            let entry = if rel.as_os_str().is_empty() {
                "./".to_string()
            } else {
                escape_control(&rel.to_string_lossy()).into_owned()
            };
            attrs::apply(&path, attrs, self.chown, false).map_err(|error| ImageError::Extract {
                entry: entry.clone(),
                path: path.clone(),
                error,
            })?;
            self.set_xattrs(&path, &entry, xattrs);
        }
        if let Some(first) = self.first_xattr_failure.take() {
            self.done.warnings.push(format!(
                "could not keep {} extended attribute(s), the first being {first}: the filesystem or the caller does not allow them",
                self.xattr_failures
            ));
        }
        if !self.chown {
            self.done.warnings.push(
                "not running as root: files belong to you, not to the owners recorded in the archive"
                    .to_string(),
            );
        }
        Ok(self.done)
    }
}

/// A new directory with a predictable mode (the umask would otherwise
/// decide); archive entries for it override this later.
fn make_dir(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new().mode(0o755).create(path)?;
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
}

fn device_number(header: &tar::Header) -> io::Result<libc::dev_t> {
    let missing = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the header has no device fields",
        )
    };
    let major = header.device_major()?.ok_or_else(missing)?;
    let minor = header.device_minor()?.ok_or_else(missing)?;
    Ok(makedev(major.into(), minor.into()))
}

fn header_attrs(header: &tar::Header) -> io::Result<Attrs> {
    let id = |value: u64, what: &str| {
        u32::try_from(value).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{what} {value} is too large"),
            )
        })
    };
    let mtime = header.mtime()?;
    Ok(Attrs {
        uid: id(header.uid()?, "uid")?,
        gid: id(header.gid()?, "gid")?,
        mode: header.mode()? & 0o7777,
        mtime_sec: i64::try_from(mtime).unwrap_or(i64::MAX),
        mtime_nsec: 0,
    })
}

/// The `SCHILY.xattr.*` records of a PAX header (what GNU tar, Docker
/// and the tar crate write for extended attributes).
fn pax_xattrs<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<Xattrs> {
    let mut xattrs = Vec::new();
    if let Some(extensions) = entry.pax_extensions()? {
        for extension in extensions {
            let extension = extension?;
            if let Some(key) = extension.key_bytes().strip_prefix(XATTR_PAX_PREFIX) {
                xattrs.push((key.to_vec(), extension.value_bytes().to_vec()));
            }
        }
    }
    Ok(xattrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_normalises_dot_prefixes() {
        let ok = |raw: &[u8]| relative_path(raw).ok().unwrap();
        assert_eq!(ok(b"./bin/sh"), PathBuf::from("bin/sh"));
        assert_eq!(ok(b"bin//sh"), PathBuf::from("bin/sh"));
        assert_eq!(ok(b"etc/"), PathBuf::from("etc"));
        assert_eq!(ok(b"./"), PathBuf::new());
        assert_eq!(ok(b"."), PathBuf::new());
    }

    #[test]
    fn relative_path_refuses_escapes() {
        assert!(matches!(
            relative_path(b"/etc/passwd"),
            Err(BadPath::Absolute)
        ));
        assert!(matches!(relative_path(b"../x"), Err(BadPath::DotDot)));
        assert!(matches!(relative_path(b"a/../../x"), Err(BadPath::DotDot)));
        assert!(matches!(relative_path(b"./a/.."), Err(BadPath::DotDot)));
        // A name that merely contains dots is fine.
        assert!(relative_path(b"a/..b/...").is_ok());
    }

    #[test]
    fn decompress_detects_format_by_content() {
        use std::io::Write;
        let payload = b"hello, plain world".to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&payload).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&payload[..], 1).unwrap();
        for input in [payload.clone(), gz, zst, b"ab".to_vec()] {
            let expected = if input == b"ab" {
                b"ab".to_vec()
            } else {
                payload.clone()
            };
            let mut out = Vec::new();
            decompress(Box::new(io::Cursor::new(input)))
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, expected);
        }
    }
}
