//! The syscalls a container must not make under hako's default seccomp
//! profile, tried from inside one (tests/security_seccomp.rs runs this in a
//! container of the `host` image). Prints one line per call, `NAME: ok` or
//! `NAME: ERRNO`, and changes nothing outside its own process: every object
//! it gets (an io_uring, a userfaultfd, a key in its process keyring, a
//! namespace) dies with it.
//!
//! `attack_syscalls threads N` instead starts N threads and joins them
//! (glibc tries clone3 first and must fall back to clone), printing
//! `threads: ok`.

// An attack program: it makes raw system calls on purpose.
#![allow(unsafe_code, clippy::unwrap_used)]

use std::ffi::CString;

fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// Prints the outcome of a raw syscall's return value.
fn report(name: &str, rc: libc::c_long) {
    if rc < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        println!("{name}: {}", errno_name(errno));
    } else {
        println!("{name}: ok");
    }
}

fn attack() {
    // SAFETY: every call below is a raw syscall with valid pointers to local
    // data, or null where the kernel accepts it; results are only reported.
    unsafe {
        // io_uring: a large kernel attack surface, blocked since Docker 25.
        let mut params = [0u8; 120]; // struct io_uring_params
        report(
            "io_uring_setup",
            libc::syscall(libc::SYS_io_uring_setup, 1, params.as_mut_ptr()),
        );

        // userfaultfd: stalls kernel page faults, a staple of kernel race
        // exploits. UFFD_USER_MODE_ONLY (1) is allowed to unprivileged users.
        report(
            "userfaultfd",
            libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC | 1),
        );

        // perf_event_open: a software counter on this process.
        let mut attr = [0u8; 128]; // struct perf_event_attr
        attr[0..4].copy_from_slice(&1u32.to_ne_bytes()); // PERF_TYPE_SOFTWARE
        attr[4..8].copy_from_slice(&128u32.to_ne_bytes()); // size
        report(
            "perf_event_open",
            libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), 0, -1, -1, 0),
        );

        // fanotify_init: FAN_CLASS_NOTIF | FAN_REPORT_FID, the form an
        // unprivileged process may use.
        report(
            "fanotify_init",
            libc::syscall(libc::SYS_fanotify_init, 0x0000_0200, libc::O_RDONLY),
        );

        // personality(ADDR_NO_RANDOMIZE): turns off ASLR for what it runs.
        report(
            "personality",
            libc::syscall(libc::SYS_personality, 0x0040000),
        );

        // clone3 with no arguments: EINVAL from the kernel, ENOSYS from the filter.
        report(
            "clone3",
            libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0),
        );

        // socket(AF_VSOCK): vsock is not namespaced; it reaches the hypervisor.
        let rc = libc::syscall(libc::SYS_socket, libc::AF_VSOCK, libc::SOCK_STREAM, 0);
        report("socket_vsock", rc);
        // The same through the i386 entry, socketcall(SYS_SOCKET, args), whose
        // arguments (the family among them) are in memory, out of the filter's sight.
        report("socketcall_vsock", i386_socketcall_socket(libc::AF_VSOCK));

        // Keyrings are not namespaced: the session keyring may be the host's.
        report(
            "keyctl",
            libc::syscall(
                libc::SYS_keyctl,
                0,  // KEYCTL_GET_KEYRING_ID
                -3, // KEY_SPEC_SESSION_KEYRING
                0,
            ),
        );
        let (kind, description, payload) = (
            CString::new("user").unwrap(),
            CString::new("hako-attack").unwrap(),
            b"x",
        );
        report(
            "add_key",
            libc::syscall(
                libc::SYS_add_key,
                kind.as_ptr(),
                description.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                -2, // KEY_SPEC_PROCESS_KEYRING: gone when this process is
            ),
        );

        // A user namespace with a mount namespace: full capabilities inside,
        // enough to mount cgroupfs, procfs and tmpfs.
        report(
            "unshare_user_mount",
            libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER | libc::CLONE_NEWNS),
        );
    }
}

/// socketcall(SYS_SOCKET, [family, SOCK_STREAM, 0]) through `int $0x80`,
/// the i386 system call entry, which a 64-bit process may use too. Its
/// pointer argument is 32 bits wide, so the arguments live in a page mapped
/// below 4 GiB. Returns the syscall's result as `libc::syscall` does.
#[cfg(target_arch = "x86_64")]
fn i386_socketcall_socket(family: libc::c_int) -> libc::c_long {
    const I386_SOCKETCALL: i64 = 102;
    const SYS_SOCKET: i64 = 1;
    // SAFETY: a fresh private anonymous page; written below, unmapped at the end.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return -1;
    }
    let args = page as *mut u32;
    let mut ret: i64 = I386_SOCKETCALL;
    // SAFETY: `args` points at three u32 in the page just mapped. rbx cannot
    // be named as an operand (LLVM reserves it), so it is swapped in and out
    // around the call; int $0x80 leaves every register but eax as it was,
    // save r8-r11, which it clears.
    unsafe {
        *args = family as u32;
        *args.add(1) = libc::SOCK_STREAM as u32;
        *args.add(2) = 0;
        std::arch::asm!(
            "xchg {call}, rbx",
            "int 0x80",
            "xchg {call}, rbx",
            call = inout(reg) SYS_SOCKET => _,
            inout("rax") ret,
            in("rcx") args as u64,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
        libc::munmap(page, 4096);
    }
    if ret < 0 {
        // As libc::syscall does: -errno becomes -1 with errno set.
        // SAFETY: errno is this thread's.
        unsafe { *libc::__errno_location() = -ret as i32 };
        return -1;
    }
    // SAFETY: the descriptor was just made and is ours.
    unsafe { libc::close(ret as i32) };
    0
}

fn threads(count: usize) {
    let handles: Vec<_> = (0..count)
        .map(|i| std::thread::spawn(move || (0..1000u64).map(|n| n * i as u64).sum::<u64>()))
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let expected: u64 = (0..count as u64).map(|i| i * 499_500).sum();
    assert_eq!(total, expected);
    println!("threads: ok");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("threads") => threads(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(8)),
        _ => attack(),
    }
}
