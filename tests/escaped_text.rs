//! Text an image or a container chose (tar entry names, commands) reaches
//! the operator's terminal with its control characters escaped: an archive
//! or a container must not be able to retitle the window (`ESC ] 0 ; ...
//! BEL`) or clear the screen (`ESC [ 2 J`) through hako's output.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;
use common::TestEnv;

const TITLE: &str = "\x1b]0;pwned\x07";
const CLEAR: &str = "\x1b[2J";

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o755);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

fn assert_no_raw_controls(text: &str) {
    assert!(
        !text.contains(['\x1b', '\x07']),
        "raw control characters reached the terminal: {text:?}"
    );
}

fn import(env: &TestEnv, name: &str, archive: Vec<u8>) -> common::Run {
    let path = env.root.path().join(format!("{name}.tar"));
    std::fs::write(&path, archive).unwrap();
    env.hako(&["image", "import", name, path.to_str().unwrap()])
}

#[test]
fn import_warnings_show_entry_names_escaped() {
    let env = TestEnv::empty();
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_data(&mut header(tar::EntryType::Directory, 0), "dev", &[][..])
        .unwrap();
    // Device nodes are skipped with a warning that names them.
    let mut node = header(tar::EntryType::Char, 0);
    node.set_device_major(1).unwrap();
    node.set_device_minor(3).unwrap();
    builder
        .append_data(&mut node, format!("dev/{TITLE}"), &[][..])
        .unwrap();
    builder
        .append_data(&mut node, format!("dev/{CLEAR}"), &[][..])
        .unwrap();
    let out = import(&env, "warned", builder.into_inner().unwrap());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_raw_controls(&out.stderr);
    assert!(
        out.stderr.contains("dev/\\x1b]0;pwned\\x07") && out.stderr.contains("dev/\\x1b[2J"),
        "{}",
        out.stderr
    );
    assert_eq!(env.hako(&["image", "rm", "warned"]).code, 0);
    env.assert_clean();
}

#[test]
fn a_refused_archive_names_its_entry_escaped() {
    let env = TestEnv::empty();
    let mut builder = tar::Builder::new(Vec::new());
    // A file through a symlink is refused, naming the entry.
    let link_name = format!("l{CLEAR}");
    builder
        .append_link(&mut header(tar::EntryType::Symlink, 0), &link_name, "x")
        .unwrap();
    builder
        .append_data(
            &mut header(tar::EntryType::Regular, 1),
            format!("{link_name}/{TITLE}"),
            &b"x"[..],
        )
        .unwrap();
    let out = import(&env, "refused", builder.into_inner().unwrap());
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert_no_raw_controls(&out.stderr);
    assert!(
        out.stderr.contains("l\\x1b[2J/\\x1b]0;pwned\\x07"),
        "{}",
        out.stderr
    );
    env.assert_clean();
}

#[test]
fn a_command_with_escapes_shows_escaped_in_ps() {
    let env = TestEnv::new();
    // `:` ignores its arguments: the container runs, its command holds ESC.
    let script = format!(": {CLEAR}{TITLE}; sleep 1000");
    let out = env.hako(&["run", "-d", "--name", "esc", "busybox", "sh", "-c", &script]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ps = env.hako(&["ps"]);
    assert_eq!(ps.code, 0, "{}", ps.stderr);
    assert_no_raw_controls(&ps.stdout);
    assert!(ps.stdout.contains("\"sh -c : \\x1b[2J"), "{}", ps.stdout);
    // JSON keeps the command as it is, escaped by JSON's own rules.
    let json = env.hako(&["ps", "--format", "json"]);
    assert_no_raw_controls(&json.stdout);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed[0]["command"][2], script.as_str());
    assert_eq!(env.hako(&["rm", "-f", "esc"]).code, 0);
    env.assert_clean();
}
