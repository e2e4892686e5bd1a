//! `attack_keyring SERIAL`: what a process can learn from its keyrings.
//!
//! Used by tests/security_process.rs from inside a container: it prints the
//! id and contents of its session keyring, then tries to read key SERIAL (a
//! key the test put in the operator's session keyring). Each line is
//! `what: result`, so the test can tell a refusal from a read.

// An attack program: it makes raw system calls on purpose.
#![allow(unsafe_code, clippy::unwrap_used)]

/// keyctl(2) operations and special keyring ids (linux/keyctl.h).
const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
const KEYCTL_READ: libc::c_long = 11;
const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;

fn keyctl(
    op: libc::c_long,
    a: libc::c_long,
    b: libc::c_long,
    c: libc::c_long,
) -> Result<i64, String> {
    // SAFETY: each call below passes either plain numbers or a buffer and
    // its true length.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, op, a, b, c) };
    if r < 0 {
        Err(std::io::Error::last_os_error().to_string())
    } else {
        Ok(r)
    }
}

/// KEYCTL_READ of `serial`: a key's payload, or a keyring's list of serials.
fn read(serial: libc::c_long) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; 4096];
    let len = keyctl(
        KEYCTL_READ,
        serial,
        buf.as_mut_ptr() as libc::c_long,
        buf.len() as libc::c_long,
    )?;
    buf.truncate(len as usize);
    Ok(buf)
}

fn main() {
    let target: libc::c_long = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .expect("usage: attack_keyring SERIAL");
    match keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0) {
        Ok(id) => {
            println!("session keyring: {id}");
            match read(id as libc::c_long) {
                Ok(list) => {
                    let serials: Vec<i32> = list
                        .chunks_exact(4)
                        .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    println!("session keyring holds: {serials:?}");
                }
                Err(e) => println!("session keyring holds: unreadable ({e})"),
            }
        }
        Err(e) => println!("session keyring: none ({e})"),
    }
    match read(target) {
        Ok(payload) => println!("key {target}: read {}", String::from_utf8_lossy(&payload)),
        Err(e) => println!("key {target}: refused ({e})"),
    }
}
