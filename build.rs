//! Lets hako build where Debian's `libseccomp2` (the shared library, which
//! apt itself depends on, so it is on every Debian system) is installed but
//! `libseccomp-dev` (which only adds the `libseccomp.so` name the linker
//! asks for) is not: the README's first command must work on a fresh machine.
//! The `libseccomp` crate links `-lseccomp`; where no `libseccomp.so` is
//! found, a link named so in OUT_DIR points at `libseccomp.so.2`.

use std::env;
use std::path::{Path, PathBuf};

const LIB_DIRS: [&str; 6] = [
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let has = |name: &str| {
        LIB_DIRS
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.exists())
    };
    if has("libseccomp.so").is_some() {
        return;
    }
    let Some(runtime_lib) = has("libseccomp.so.2") else {
        // Neither: the link fails with the linker's own message; the README
        // says to install libseccomp2.
        return;
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let link = out.join("libseccomp.so");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&runtime_lib, &link).expect("a symlink in OUT_DIR");
    println!("cargo:rustc-link-search=native={}", out.display());
}
