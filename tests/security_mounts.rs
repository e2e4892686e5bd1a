//! Mount targets raced from inside a container (CVE-2021-30465): a container
//! sharing a writable volume with new containers swaps a directory of it and
//! a symlink to the host, while the new containers bind a file below that
//! directory. However the race falls, the host must stay exactly as it was.
//!
//! The racer is `examples/attack_mount_race.rs`: `cargo test` builds it;
//! `cargo test --test security_mounts` alone does not, so build it first with
//! `cargo build --example attack_mount_race`.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;
use common::{wait_for, TestEnv, HAKO};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// New containers started during the race. Each start is a few ms; the old
/// code (a check, then a walk by path) was sent to the host within the first
/// few dozen starts, so 500 leaves a wide margin.
const STARTS: usize = 500;

/// What the test owns outside the shared volume, entry by entry: type, mode,
/// size, contents and inode, so that a new, removed, replaced or truncated
/// entry shows as a difference.
fn snapshot(dir: &Path, skip: &Path) -> BTreeMap<PathBuf, String> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path == skip {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mut what = format!("mode {:o} ino {}", meta.mode(), meta.ino());
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        } else if meta.is_file() {
            let contents = std::fs::read(&path).unwrap();
            what += &format!(" contents {:?}", String::from_utf8_lossy(&contents));
        }
        found.insert(path, what);
    }
    found
}

#[test]
fn a_symlink_swapped_into_a_shared_volume_never_sends_a_mount_to_the_host() {
    let env = TestEnv::new();
    let owned = tempfile::Builder::new()
        .prefix("hako-race-")
        .tempdir()
        .unwrap();
    let volume = owned.path().join("volume");
    let hostside = owned.path().join("hostside");
    let source = owned.path().join("source");
    std::fs::create_dir(&volume).unwrap();
    std::fs::create_dir(&hostside).unwrap();
    // The escape would create `file` and `deeper/` here, or change this one.
    std::fs::write(hostside.join("keep"), "precious").unwrap();
    std::fs::write(&source, "bound in").unwrap();
    let before = snapshot(owned.path(), &volume);

    let examples = Path::new(HAKO).parent().unwrap().join("examples");
    assert!(
        examples.join("attack_mount_race").is_file(),
        "the racer is missing: build it with `cargo build --example attack_mount_race`"
    );
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "racer",
        "-v",
        &format!("{}:/shared", volume.display()),
        "-v",
        &format!("{}:/attack:ro", examples.display()),
        "host",
        "/attack/attack_mount_race",
        "/shared",
        hostside.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "the racer did not start: {}", out.stderr);
    wait_for("the racer", Duration::from_secs(10), || {
        volume.join("ready").exists()
    });

    let started = Instant::now();
    let (mut ok, mut failed) = (0, 0);
    let mut first_escape = None;
    let mut reasons = BTreeMap::<String, usize>::new();
    for _ in 0..STARTS {
        let out = env.hako(&[
            "run",
            "--rm",
            "-v",
            &format!("{}:/shared", volume.display()),
            "-v",
            &format!("{}:/shared/sub/file", source.display()),
            "-v",
            &format!("{}:/shared/sub/deeper/file", source.display()),
            "busybox",
            "true",
        ]);
        if out.code == 0 {
            ok += 1;
        } else {
            failed += 1;
            // The reason without the container's paths, to count each kind once.
            let reason = out.stderr.split(" on /").next().unwrap_or_default();
            *reasons.entry(reason.to_string()).or_default() += 1;
        }
        // Cheap to look at each time: only `keep` belongs in hostside.
        if first_escape.is_none() && std::fs::read_dir(&hostside).unwrap().count() != 1 {
            first_escape = Some(ok + failed);
        }
    }
    let elapsed = started.elapsed();

    std::fs::write(volume.join("stop"), "").unwrap();
    wait_for("the racer's count", Duration::from_secs(10), || {
        volume.join("count").exists()
    });
    let exchanges: u64 = std::fs::read_to_string(volume.join("count"))
        .unwrap()
        .parse()
        .unwrap();
    let out = env.hako(&["rm", "-f", "racer"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    eprintln!(
        "{STARTS} starts in {elapsed:?} ({ok} ran, {failed} refused: {reasons:?}); \
         the racer made {exchanges} exchanges; the host first changed after start \
         {first_escape:?}"
    );

    // The racer really raced: many exchanges per start.
    assert!(
        exchanges > 100 * STARTS as u64,
        "only {exchanges} exchanges"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let owned_path = owned.path().to_string_lossy().into_owned();
    assert!(
        !mounts.contains(&owned_path),
        "a container's mount reached the host:\n{mounts}"
    );
    assert_eq!(
        snapshot(owned.path(), &volume),
        before,
        "a container start changed the host outside the volume"
    );
    env.assert_clean();
}
