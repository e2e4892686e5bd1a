//! The container's network: with `--network none` (the default) a new network
//! namespace whose only interface is `lo`, which starts down and must be
//! brought up so that 127.0.0.1 works inside.

use super::SetupError;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::AsRawFd;

/// Sets IFF_UP on `lo` with the SIOCGIFFLAGS / SIOCSIFFLAGS ioctls.
pub fn bring_up_loopback() -> Result<(), SetupError> {
    let fail = |what: &str, e: std::io::Error| SetupError::new(format!("failed to {what} lo: {e}"));
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| fail("open a socket to bring up", e.into()))?;

    // SAFETY: ifreq is a plain C struct for which all-zero bytes are valid.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: nix has no wrapper for the interface-flag ioctls. The socket is
    // open, and `request` is a valid, writable ifreq naming a NUL-terminated
    // interface that lives across both calls; the kernel reads and writes only
    // within it.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(fail("read the flags of", std::io::Error::last_os_error()));
        }
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(fail("bring up", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}
