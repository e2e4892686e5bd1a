//! The image store through its public API, on real files: imports of
//! every supported source, hostile archives, devices, names, list, remove,
//! the built-in `host` image and `copy_tree`. Runs as root (ownership and
//! device nodes need it).

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hako::runtime::image::{copy_tree, ImageError, ImageStore, ImportOptions};
use tar::{EntryType, Header};
use tempfile::TempDir;

const MTIME: u64 = 1_600_000_000;

/// Builds archives entry by entry, writing names straight into the header
/// so that hostile names (`../x`, `/etc/passwd`, `./bin/sh`) survive: the
/// tar crate's own setters normalise or refuse them.
struct Archive {
    builder: tar::Builder<Vec<u8>>,
}

impl Archive {
    fn new() -> Archive {
        Archive {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn raw(
        &mut self,
        kind: EntryType,
        name: &str,
        link: &str,
        mode: u32,
        owner: (u64, u64),
        data: &[u8],
        device: (u32, u32),
    ) -> &mut Archive {
        let mut header = Header::new_gnu();
        {
            let old = header.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(owner.0);
        header.set_gid(owner.1);
        header.set_size(data.len() as u64);
        header.set_mtime(MTIME);
        header.set_device_major(device.0).unwrap();
        header.set_device_minor(device.1).unwrap();
        header.set_cksum();
        self.builder.append(&header, data).unwrap();
        self
    }

    fn dir(&mut self, name: &str, mode: u32) -> &mut Archive {
        self.raw(EntryType::Directory, name, "", mode, (0, 0), b"", (0, 0))
    }

    fn file(&mut self, name: &str, data: &[u8], mode: u32, owner: (u64, u64)) -> &mut Archive {
        self.raw(EntryType::Regular, name, "", mode, owner, data, (0, 0))
    }

    fn symlink(&mut self, name: &str, target: &str) -> &mut Archive {
        self.raw(EntryType::Symlink, name, target, 0o777, (0, 0), b"", (0, 0))
    }

    fn hard_link(&mut self, name: &str, target: &str) -> &mut Archive {
        self.raw(EntryType::Link, name, target, 0o644, (0, 0), b"", (0, 0))
    }

    fn device(&mut self, kind: EntryType, name: &str, major: u32, minor: u32) -> &mut Archive {
        self.raw(kind, name, "", 0o660, (0, 6), b"", (major, minor))
    }

    /// A PAX header giving the next entry extended attributes.
    fn xattrs(&mut self, pairs: &[(&str, &str)]) -> &mut Archive {
        let mut records = Vec::new();
        for (key, value) in pairs {
            let body = format!(" SCHILY.xattr.{key}={value}\n");
            // The length prefix counts its own digits.
            let mut len = body.len() + 1;
            while format!("{len}{body}").len() != len {
                len += 1;
            }
            records.extend_from_slice(format!("{len}{body}").as_bytes());
        }
        self.raw(
            EntryType::XHeader,
            "PaxHeaders/x",
            "",
            0o644,
            (0, 0),
            &records,
            (0, 0),
        )
    }

    fn bytes(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

struct Fixture {
    _tmp: TempDir,
    root: PathBuf,
    store_dir: PathBuf,
    store: ImageStore,
    /// A directory outside the store that hostile archives aim at.
    outside: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let store_dir = root.join("store");
        let outside = root.join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("target"), "original").unwrap();
        Fixture {
            store: ImageStore::new(store_dir.clone()),
            _tmp: tmp,
            root,
            store_dir,
            outside,
        }
    }

    fn write(&self, file_name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.root.join(file_name);
        fs::write(&path, bytes).unwrap();
        path
    }

    fn import(
        &self,
        name: &str,
        archive: Archive,
    ) -> Result<hako::runtime::image::ImportReport, ImageError> {
        let path = self.write(&format!("{name}.tar"), &archive.bytes());
        self.store.import(name, &path, &ImportOptions::default())
    }

    fn rootfs(&self, name: &str) -> PathBuf {
        self.store_dir.join(name).join("rootfs")
    }

    /// Everything in the store directory (dot-dirs included).
    fn store_entries(&self) -> Vec<String> {
        match fs::read_dir(&self.store_dir) {
            Ok(dir) => dir
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => vec![],
        }
    }

    /// The outside directory holds exactly its untouched sentinel file.
    fn assert_outside_untouched(&self) {
        let names: Vec<_> = fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["target"], "something was written outside");
        assert_eq!(
            fs::read_to_string(self.outside.join("target")).unwrap(),
            "original"
        );
        assert_eq!(
            fs::metadata(self.outside.join("target")).unwrap().nlink(),
            1
        );
        assert!(!self.root.join("escape").exists());
    }

    /// A refused import: the error names `entry`, mentions `reason`, and
    /// leaves no image, no temp dir and nothing outside.
    fn assert_refused(&self, name: &str, archive: Archive, entry: &str, reason: &str) {
        let err = self.import(name, archive).unwrap_err();
        match &err {
            ImageError::Refused { entry: e, .. } => assert_eq!(e, entry, "{err}"),
            other => panic!("expected Refused for {entry}, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains(entry), "{message}");
        assert!(message.contains(reason), "{message}");
        assert!(
            self.store_entries().is_empty(),
            "leftovers after refusal: {:?}",
            self.store_entries()
        );
        self.assert_outside_untouched();
    }
}

/// The same small root filesystem, with entry names `prefix`ed ("" for
/// `docker export`, "./" for `tar -C rootfs -c .`).
fn sample_rootfs(prefix: &str) -> Archive {
    let p = |name: &str| format!("{prefix}{name}");
    let mut archive = Archive::new();
    if !prefix.is_empty() {
        archive.dir(prefix, 0o750);
    }
    archive
        .dir(&p("bin/"), 0o755)
        .file(&p("bin/busybox"), b"#!busybox\n", 0o755, (1234, 5678))
        .symlink(&p("bin/sh"), "/bin/busybox")
        .hard_link(&p("bin/ls"), &p("bin/busybox"))
        .file(&p("bin/su"), b"su", 0o4755, (0, 0))
        .dir(&p("etc/"), 0o755)
        .file(
            &p("etc/passwd"),
            b"root:x:0:0::/root:/bin/sh\n",
            0o644,
            (0, 0),
        )
        .dir(&p("tmp/"), 0o1777)
        // No entries for var/ or var/lib/: parents get created.
        .file(&p("var/lib/deep"), b"deep", 0o600, (1234, 5678));
    archive
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn assert_sample_rootfs(rootfs: &Path) {
    let busybox = fs::symlink_metadata(rootfs.join("bin/busybox")).unwrap();
    assert_eq!(
        fs::read(rootfs.join("bin/busybox")).unwrap(),
        b"#!busybox\n"
    );
    assert_eq!(busybox.mode() & 0o7777, 0o755);
    assert_eq!((busybox.uid(), busybox.gid()), (1234, 5678));
    assert_eq!(busybox.mtime(), MTIME as i64);

    let sh = fs::symlink_metadata(rootfs.join("bin/sh")).unwrap();
    assert!(sh.file_type().is_symlink());
    assert_eq!(
        fs::read_link(rootfs.join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );

    let ls = fs::symlink_metadata(rootfs.join("bin/ls")).unwrap();
    assert_eq!(ls.ino(), busybox.ino(), "hard link lost");
    assert_eq!(busybox.nlink(), 2);

    let su = fs::symlink_metadata(rootfs.join("bin/su")).unwrap();
    assert_eq!(su.mode() & 0o7777, 0o4755, "setuid bit lost");
    assert_eq!(su.uid(), 0);

    assert_eq!(mode(&rootfs.join("tmp")), 0o1777);
    assert_eq!(fs::read(rootfs.join("var/lib/deep")).unwrap(), b"deep");
    assert_eq!(mode(&rootfs.join("var/lib/deep")), 0o600);
    assert_eq!(mode(&rootfs.join("var/lib")), 0o755);
    // Directory times survive the files written into them afterwards.
    assert_eq!(
        fs::metadata(rootfs.join("bin")).unwrap().mtime(),
        MTIME as i64
    );
}

#[test]
fn imports_docker_export_style_archive() {
    let fx = Fixture::new();
    let report = fx.import("busybox", sample_rootfs("")).unwrap();
    assert_sample_rootfs(&fx.rootfs("busybox"));
    assert_eq!(report.entries, 9);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.rootfs, fx.rootfs("busybox"));

    let meta: serde_json::Value =
        serde_json::from_slice(&fs::read(fx.store_dir.join("busybox/image.json")).unwrap())
            .unwrap();
    assert_eq!(meta["name"], "busybox");
    assert_eq!(meta["entries"], 9);
    assert!(meta["created"].as_u64().unwrap() > MTIME);
    assert!(meta["source"].as_str().unwrap().contains("busybox.tar"));
    assert_eq!(fx.store_entries(), vec!["busybox"]);
}

#[test]
fn imports_dot_prefixed_archive_and_root_mode() {
    let fx = Fixture::new();
    let report = fx.import("dotted", sample_rootfs("./")).unwrap();
    let rootfs = fx.rootfs("dotted");
    assert_sample_rootfs(&rootfs);
    assert_eq!(report.entries, 10);
    // The `./` entry gives the root its mode.
    assert_eq!(mode(&rootfs), 0o750);
    assert_eq!(fs::metadata(&rootfs).unwrap().mtime(), MTIME as i64);
}

#[test]
fn detects_compression_by_content_not_name() {
    let fx = Fixture::new();
    let plain = sample_rootfs("").bytes();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz_path = fx.write("really-gzip.tar", &gz.finish().unwrap());
    let zst_path = fx.write("really-zstd.tar", &zstd::encode_all(&plain[..], 3).unwrap());
    let plain_path = fx.write("really-plain.tar.gz", &plain);

    for (name, path) in [("gz", gz_path), ("zst", zst_path), ("plain", plain_path)] {
        let report = fx
            .store
            .import(name, &path, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.entries, 9, "{name}");
        assert_sample_rootfs(&fx.rootfs(name));
    }
}

#[test]
fn keeps_xattrs_from_pax_headers() {
    let fx = Fixture::new();
    let mut archive = Archive::new();
    archive
        .xattrs(&[("user.hako", "yes")])
        .file("tagged", b"x", 0o644, (0, 0));
    let report = fx.import("xattr", archive).unwrap();
    let path = fx.rootfs("xattr").join("tagged");
    // xattr::get is lgetxattr, as the import sets it: never through a symlink.
    match xattr::get(&path, "user.hako") {
        Ok(Some(value)) => assert_eq!(value, b"yes"),
        // Only acceptable if the filesystem refuses user xattrs, and then
        // the import must say so.
        _ => assert!(
            report.warnings.iter().any(|w| w.contains("user.hako")),
            "xattr neither kept nor reported: {:?}",
            report.warnings
        ),
    }
}

#[test]
fn imports_a_directory() {
    let fx = Fixture::new();
    let src = fx.root.join("src");
    fs::create_dir_all(src.join("bin")).unwrap();
    fs::write(src.join("bin/tool"), "tool").unwrap();
    fs::set_permissions(src.join("bin/tool"), fs::Permissions::from_mode(0o4750)).unwrap();
    std::os::unix::fs::chown(src.join("bin/tool"), Some(1234), Some(5678)).unwrap();
    fs::set_permissions(src.join("bin/tool"), fs::Permissions::from_mode(0o4750)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("passwd-link")).unwrap();
    std::os::unix::fs::symlink(&fx.outside, src.join("outside-link")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(src.join("sock")).unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o705)).unwrap();

    let report = fx
        .store
        .import("fromdir", &src, &ImportOptions::default())
        .unwrap();
    let rootfs = fx.rootfs("fromdir");
    assert_eq!(mode(&rootfs), 0o705);
    let tool = fs::symlink_metadata(rootfs.join("bin/tool")).unwrap();
    assert_eq!(fs::read(rootfs.join("bin/tool")).unwrap(), b"tool");
    assert_eq!(tool.mode() & 0o7777, 0o4750);
    assert_eq!((tool.uid(), tool.gid()), (1234, 5678));
    // Symlinks are copied as symlinks, never followed.
    assert_eq!(
        fs::read_link(rootfs.join("passwd-link")).unwrap(),
        Path::new("/etc/passwd")
    );
    assert_eq!(
        fs::read_link(rootfs.join("outside-link")).unwrap(),
        fx.outside
    );
    assert!(!rootfs.join("sock").exists());
    assert!(
        report.warnings.iter().any(|w| w.contains("sock")),
        "{:?}",
        report.warnings
    );
    // bin, bin/tool, passwd-link, outside-link
    assert_eq!(report.entries, 4);
    fx.assert_outside_untouched();
}

#[test]
fn refuses_absolute_path() {
    let fx = Fixture::new();
    let entry = format!("{}/pwned", fx.outside.display());
    let mut archive = Archive::new();
    archive
        .dir("etc/", 0o755)
        .file(&entry, b"pwned", 0o644, (0, 0));
    fx.assert_refused("abs", archive, &entry, "absolute path");
}

#[test]
fn refuses_dot_dot() {
    let fx = Fixture::new();
    let mut archive = Archive::new();
    archive.file("../escape", b"pwned", 0o644, (0, 0));
    fx.assert_refused("dotdot", archive, "../escape", "'..'");

    // Deep enough to land in the fixture root if it were followed.
    let mut archive = Archive::new();
    archive.file("ok", b"fine", 0o644, (0, 0)).file(
        "./a/../../../../escape",
        b"pwned",
        0o644,
        (0, 0),
    );
    fx.assert_refused("dotdot", archive, "./a/../../../../escape", "'..'");
}

#[test]
fn refuses_writing_through_absolute_symlink() {
    let fx = Fixture::new();
    let mut archive = Archive::new();
    archive.symlink("evil", fx.outside.to_str().unwrap()).file(
        "evil/pwned",
        b"pwned",
        0o644,
        (0, 0),
    );
    fx.assert_refused("abslink", archive, "evil/pwned", "symlink \"evil\"");
}

#[test]
fn refuses_writing_through_relative_symlink() {
    let fx = Fixture::new();
    let mut archive = Archive::new();
    archive
        .symlink("evil", "..")
        .file("evil/x", b"pwned", 0o644, (0, 0));
    fx.assert_refused("rellink", archive, "evil/x", "symlink");

    // The symlink deeper down, pointing at the outside directory.
    let mut archive = Archive::new();
    archive
        .dir("a/", 0o755)
        .symlink("a/evil", "../../../../outside")
        .dir("a/evil/sub/", 0o755);
    fx.assert_refused("rellink", archive, "a/evil/sub/", "symlink \"a/evil\"");
}

#[test]
fn refuses_hostile_hard_links() {
    let fx = Fixture::new();
    let passwd_links = fs::metadata("/etc/passwd").unwrap().nlink();

    let mut archive = Archive::new();
    archive.hard_link("pw", "/etc/passwd");
    fx.assert_refused("hard", archive, "pw", "absolute path \"/etc/passwd\"");

    let mut archive = Archive::new();
    let target = fx.outside.join("target");
    archive.hard_link("pw", target.to_str().unwrap());
    fx.assert_refused("hard", archive, "pw", "absolute path");

    let mut archive = Archive::new();
    archive.hard_link("x", "../x");
    fx.assert_refused("hard", archive, "x", "'..'");

    let mut archive = Archive::new();
    archive
        .symlink("evil", fx.outside.to_str().unwrap())
        .hard_link("pw", "evil/target");
    fx.assert_refused("hard", archive, "pw", "passes through the symlink");

    let mut archive = Archive::new();
    archive.hard_link("pw", "missing");
    fx.assert_refused("hard", archive, "pw", "not an earlier file entry");

    assert_eq!(fs::metadata("/etc/passwd").unwrap().nlink(), passwd_links);
}

#[test]
fn later_entries_replace_symlinks_instead_of_writing_through() {
    let fx = Fixture::new();
    let target = fx.outside.join("target");
    let mut archive = Archive::new();
    archive
        .symlink("f", target.to_str().unwrap())
        .file("f", b"replaced", 0o644, (0, 0))
        .symlink("d", fx.outside.to_str().unwrap())
        .dir("d/", 0o700)
        .symlink("s", target.to_str().unwrap())
        .symlink("s", "/bin/true");
    fx.import("replace", archive).unwrap();
    let rootfs = fx.rootfs("replace");
    assert_eq!(fs::read(rootfs.join("f")).unwrap(), b"replaced");
    assert!(fs::symlink_metadata(rootfs.join("f")).unwrap().is_file());
    assert!(fs::symlink_metadata(rootfs.join("d")).unwrap().is_dir());
    assert_eq!(mode(&rootfs.join("d")), 0o700);
    assert_eq!(
        fs::read_link(rootfs.join("s")).unwrap(),
        Path::new("/bin/true")
    );
    fx.assert_outside_untouched();
    assert_ne!(mode(&fx.outside), 0o700);
}

#[test]
fn refuses_replacing_a_directory() {
    let fx = Fixture::new();
    let mut archive = Archive::new();
    archive
        .dir("etc/", 0o755)
        .file("etc/passwd", b"x", 0o644, (0, 0))
        .symlink("etc", "/tmp");
    fx.assert_refused("clobber", archive, "etc", "replace a directory");
}

#[test]
fn refuses_garbage_empty_and_truncated_archives() {
    let fx = Fixture::new();
    let garbage = fx.write("garbage.tar", &[b'x'; 2000]);
    let err = fx
        .store
        .import("garbage", &garbage, &ImportOptions::default())
        .unwrap_err();
    assert!(matches!(err, ImageError::Archive { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.tar"), "{err}");

    let empty = fx.write("empty.tar", &[0u8; 1024]);
    let err = fx
        .store
        .import("empty", &empty, &ImportOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("no entries"), "{err}");

    let mut archive = Archive::new();
    archive.file("big", &[7u8; 4096], 0o644, (0, 0));
    let bytes = archive.bytes();
    let truncated = fx.write("truncated.tar", &bytes[..2048]);
    let err = fx
        .store
        .import("truncated", &truncated, &ImportOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("big"), "{err}");

    let missing = fx.root.join("no-such-file.tar");
    let err = fx
        .store
        .import("missing", &missing, &ImportOptions::default())
        .unwrap_err();
    assert!(matches!(err, ImageError::Source { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-file.tar"), "{err}");

    assert!(fx.store_entries().is_empty(), "{:?}", fx.store_entries());
}

fn device_archive() -> Archive {
    let mut archive = Archive::new();
    archive
        .dir("dev/", 0o755)
        .device(EntryType::Block, "dev/sda", 8, 0)
        .device(EntryType::Char, "dev/null", 1, 3)
        .raw(EntryType::Fifo, "dev/fifo", "", 0o620, (0, 0), b"", (0, 0));
    archive
}

#[test]
fn skips_device_nodes_with_a_warning() {
    let fx = Fixture::new();
    let report = fx.import("devs", device_archive()).unwrap();
    let dev = fx.rootfs("devs").join("dev");
    assert!(fs::symlink_metadata(dev.join("sda")).is_err());
    assert!(fs::symlink_metadata(dev.join("null")).is_err());
    assert!(report.warnings.contains(
        &"skipped device node dev/sda: use --allow-devices to keep device nodes".to_string()
    ));
    assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
    // FIFOs are harmless and kept.
    let fifo = fs::symlink_metadata(dev.join("fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o620);
    assert_eq!(report.entries, 2);
}

#[test]
fn creates_device_nodes_when_allowed() {
    let fx = Fixture::new();
    let path = fx.write("devs.tar", &device_archive().bytes());
    let options = ImportOptions {
        allow_devices: true,
    };
    match fx.store.import("devs", &path, &options) {
        Ok(report) => {
            let dev = fx.rootfs("devs").join("dev");
            let null = fs::symlink_metadata(dev.join("null")).unwrap();
            assert!(null.file_type().is_char_device());
            assert_eq!(null.rdev(), libc::makedev(1, 3));
            assert_eq!(null.gid(), 6);
            assert_eq!(null.mode() & 0o7777, 0o660);
            let sda = fs::symlink_metadata(dev.join("sda")).unwrap();
            assert!(sda.file_type().is_block_device());
            assert_eq!(sda.rdev(), libc::makedev(8, 0));
            assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        }
        // Without CAP_MKNOD (e.g. inside a container) mknod fails; the
        // import must then fail cleanly, naming the device entry.
        Err(err) => {
            assert!(matches!(err, ImageError::Extract { .. }), "{err:?}");
            assert!(err.to_string().contains("dev/sda"), "{err}");
            assert!(fx.store_entries().is_empty());
        }
    }
}

#[test]
fn validates_image_names() {
    let fx = Fixture::new();
    let src = fx.root.join("empty-dir");
    fs::create_dir(&src).unwrap();
    let long = "a".repeat(65);
    for bad in [
        "",
        "Alpine",
        ".hidden",
        "a/b",
        "..",
        "../x",
        "with space",
        "ümlaut",
        &long,
    ] {
        let err = fx
            .store
            .import(bad, &src, &ImportOptions::default())
            .unwrap_err();
        assert!(
            matches!(err, ImageError::InvalidName { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().contains("lowercase letters"), "{err}");
        assert!(
            matches!(fx.store.open(bad), Err(ImageError::InvalidName { .. })),
            "{bad:?}"
        );
    }
    for good in ["alpine", "alpine-3.19_x", "9", &"a".repeat(64)] {
        fx.store
            .import(good, &src, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{good:?}: {e}"));
        assert!(fx.store.open(good).unwrap().rootfs.is_dir());
    }
    let err = fx
        .store
        .import("host", &src, &ImportOptions::default())
        .unwrap_err();
    assert!(matches!(err, ImageError::Builtin { .. }), "{err:?}");
    assert!(fs::symlink_metadata(fx.store_dir.join("host/image.json")).is_err());
}

#[test]
fn refuses_import_over_existing_image() {
    let fx = Fixture::new();
    fx.import("img", sample_rootfs("")).unwrap();
    let mut other = Archive::new();
    other.file("other", b"other", 0o644, (0, 0));
    let err = fx.import("img", other).unwrap_err();
    assert!(matches!(err, ImageError::AlreadyExists(_)), "{err:?}");
    assert!(err.to_string().contains("hako image rm img"), "{err}");
    // The existing image is untouched and no temp dir is left.
    assert_sample_rootfs(&fx.rootfs("img"));
    assert!(!fx.rootfs("img").join("other").exists());
    assert_eq!(fx.store_entries(), vec!["img"]);
}

#[test]
fn lists_images_with_host_first() {
    let fx = Fixture::new();
    // Before anything exists (no store directory yet): just `host`.
    let images = fx.store.list().unwrap();
    assert_eq!(images.len(), 1);
    assert!(images[0].builtin && images[0].name == "host");

    fx.import("beta", sample_rootfs("")).unwrap();
    fx.import("alpha", sample_rootfs("./")).unwrap();
    fs::create_dir_all(fx.store_dir.join(".import-zeta-123/rootfs")).unwrap();

    let images = fx.store.list().unwrap();
    let names: Vec<_> = images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["host", "alpha", "beta"]);
    assert!(images[0].builtin);
    assert!(!images[1].builtin && !images[2].builtin);
    // busybox (hard-linked twice, counted once) + su + passwd + deep.
    let expected = (10 + 2 + 26 + 4) as u64;
    assert_eq!(images[1].size_bytes, expected);
    assert_eq!(images[2].size_bytes, expected);
    assert!(images[1].created.is_some());
    assert!(images[1].source.as_deref().unwrap().contains("alpha.tar"));
}

#[test]
fn removes_images_unless_in_use() {
    let fx = Fixture::new();
    fx.import("img", sample_rootfs("")).unwrap();

    let users = vec!["web-1".to_string(), "3f2a9c".to_string()];
    let err = fx.store.remove("img", &users).unwrap_err();
    assert!(matches!(err, ImageError::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("web-1, 3f2a9c"), "{err}");
    assert!(fx.store.open("img").is_ok());

    fx.store.remove("img", &[]).unwrap();
    assert!(matches!(fx.store.open("img"), Err(ImageError::NotFound(_))));
    assert!(fx.store_entries().is_empty(), "{:?}", fx.store_entries());
    let names: Vec<_> = fx
        .store
        .list()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["host"]);

    assert!(matches!(
        fx.store.remove("img", &[]),
        Err(ImageError::NotFound(_))
    ));
    let err = fx.store.remove("host", &[]).unwrap_err();
    assert!(matches!(err, ImageError::Builtin { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be removed"), "{err}");
}

#[test]
fn host_image_mirrors_the_host() {
    let fx = Fixture::new();
    let image = fx.store.open("host").unwrap();
    assert_eq!(image.name, "host");
    assert_eq!(image.rootfs, fx.rootfs("host"));
    let rootfs = &image.rootfs;

    let passwd = fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    assert!(
        passwd.starts_with("root:x:0:0:root:/root:/bin/sh\n"),
        "{passwd}"
    );
    assert!(passwd.contains("nobody:x:65534:65534:"));
    for file in ["group", "hosts", "resolv.conf", "nsswitch.conf"] {
        assert!(rootfs.join("etc").join(file).is_file(), "etc/{file}");
    }
    assert_eq!(mode(&rootfs.join("tmp")), 0o1777);
    assert_eq!(mode(&rootfs.join("var/tmp")), 0o1777);
    assert_eq!(mode(&rootfs.join("root")), 0o700);
    for dir in ["proc", "sys", "dev", "home", "run", "mnt"] {
        assert!(
            fs::symlink_metadata(rootfs.join(dir)).unwrap().is_dir(),
            "{dir}"
        );
    }

    assert!(!image.host_binds.is_empty());
    for bind in &image.host_binds {
        assert!(
            fs::symlink_metadata(bind).unwrap().is_dir(),
            "{}",
            bind.display()
        );
        let inside = rootfs.join(bind.strip_prefix("/").unwrap());
        assert!(fs::symlink_metadata(&inside).unwrap().is_dir());
        assert_eq!(
            fs::read_dir(&inside).unwrap().count(),
            0,
            "mount point not empty"
        );
    }
    for name in ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = Path::new("/").join(name);
        match fs::symlink_metadata(&host) {
            Ok(meta) if meta.file_type().is_symlink() => {
                assert_eq!(
                    fs::read_link(rootfs.join(name)).unwrap(),
                    fs::read_link(&host).unwrap()
                );
                assert!(!image.host_binds.contains(&host));
            }
            Ok(meta) if meta.is_dir() => assert!(image.host_binds.contains(&host), "{name}"),
            _ => assert!(fs::symlink_metadata(rootfs.join(name)).is_err(), "{name}"),
        }
    }

    // Opening again reuses the skeleton.
    let marker = rootfs.join("etc/marker");
    fs::write(&marker, "").unwrap();
    let again = fx.store.open("host").unwrap();
    assert_eq!(again.host_binds, image.host_binds);
    assert!(marker.exists());
    assert_eq!(fx.store_entries(), vec!["host"]);
    // The generated skeleton is not listed as an imported image.
    let names: Vec<_> = fx
        .store
        .list()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["host"]);
}

#[test]
fn copy_tree_keeps_metadata_and_does_not_follow_symlinks() {
    let fx = Fixture::new();
    let src = fx.root.join("src");
    fs::create_dir_all(src.join("sub/deeper")).unwrap();
    fs::write(src.join("sub/file"), "data").unwrap();
    std::os::unix::fs::chown(src.join("sub/file"), Some(42), Some(43)).unwrap();
    fs::set_permissions(src.join("sub/file"), fs::Permissions::from_mode(0o2751)).unwrap();
    fs::hard_link(src.join("sub/file"), src.join("hard")).unwrap();
    std::os::unix::fs::symlink(&fx.outside, src.join("out")).unwrap();
    std::os::unix::fs::lchown(src.join("out"), Some(7), Some(8)).unwrap();
    nix::unistd::mkfifo(
        &src.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o640),
    )
    .unwrap();
    fs::set_permissions(src.join("sub"), fs::Permissions::from_mode(0o710)).unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o751)).unwrap();

    let dst = fx.root.join("dst");
    copy_tree(&src, &dst).unwrap();

    let file = fs::symlink_metadata(dst.join("sub/file")).unwrap();
    assert_eq!(fs::read(dst.join("sub/file")).unwrap(), b"data");
    assert_eq!(file.mode() & 0o7777, 0o2751);
    assert_eq!((file.uid(), file.gid()), (42, 43));
    assert_eq!(
        file.mtime(),
        fs::metadata(src.join("sub/file")).unwrap().mtime()
    );
    assert_eq!(fs::read(dst.join("hard")).unwrap(), b"data");
    let out = fs::symlink_metadata(dst.join("out")).unwrap();
    assert!(out.file_type().is_symlink());
    assert_eq!((out.uid(), out.gid()), (7, 8));
    assert_eq!(fs::read_link(dst.join("out")).unwrap(), fx.outside);
    assert!(fs::symlink_metadata(dst.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(mode(&dst.join("sub")), 0o710);
    assert_eq!(mode(&dst), 0o751);
    assert!(dst.join("sub/deeper").is_dir());
    fx.assert_outside_untouched();

    // Copying a tree into itself is refused rather than recursing forever.
    let err = copy_tree(&src, &src.join("sub/inside")).unwrap_err();
    assert!(err.to_string().contains("inside it"), "{err}");
}

/// Archives made by GNU tar itself (`./` prefixes, GNU hard link and
/// xattr encodings), when the tool is installed.
#[test]
fn imports_archives_made_by_gnu_tar() {
    if std::process::Command::new("tar")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("tar not installed; skipping");
        return;
    }
    let fx = Fixture::new();
    let src = fx.root.join("src");
    fs::create_dir_all(src.join("usr/bin")).unwrap();
    fs::write(src.join("usr/bin/prog"), "prog").unwrap();
    std::os::unix::fs::chown(src.join("usr/bin/prog"), Some(1234), Some(5678)).unwrap();
    fs::set_permissions(src.join("usr/bin/prog"), fs::Permissions::from_mode(0o4711)).unwrap();
    fs::hard_link(src.join("usr/bin/prog"), src.join("usr/bin/alias")).unwrap();
    std::os::unix::fs::symlink("usr/bin", src.join("bin")).unwrap();

    for (name, flags) in [("gnutar", "-cf"), ("gnutargz", "-czf")] {
        let archive = fx.root.join(format!("{name}.tar"));
        let status = std::process::Command::new("tar")
            .args(["--numeric-owner", "-C"])
            .arg(&src)
            .arg(flags)
            .arg(&archive)
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        fx.store
            .import(name, &archive, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let rootfs = fx.rootfs(name);
        let prog = fs::symlink_metadata(rootfs.join("usr/bin/prog")).unwrap();
        assert_eq!(prog.mode() & 0o7777, 0o4711, "{name}");
        assert_eq!((prog.uid(), prog.gid()), (1234, 5678), "{name}");
        let alias = fs::symlink_metadata(rootfs.join("usr/bin/alias")).unwrap();
        assert_eq!(alias.ino(), prog.ino(), "{name}");
        assert_eq!(
            fs::read_link(rootfs.join("bin")).unwrap(),
            Path::new("usr/bin")
        );
    }
}
