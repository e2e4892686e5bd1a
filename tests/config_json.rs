//! The container's one description: the OCI Spec kept as `config.json` in
//! its directory, as a bundle keeps it, and shown by `hako inspect`. Needs
//! root.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestEnv;
use oci_spec::runtime::Spec;
use std::os::unix::fs::PermissionsExt;

#[test]
fn config_json_is_the_spec_inspect_shows() {
    let env = TestEnv::new();
    let out = env.hako(&[
        "run", "--name", "kept", "-e", "SECRET=x", "--memory", "32m", "-w", "/tmp", "busybox",
        "true",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = env.inspect("kept");
    let id = shown["id"].as_str().unwrap();
    let file = env.containers_dir().join(id).join("config.json");

    // Only root may read it: it holds the -e values.
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let written: Spec = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let inspected: Spec = serde_json::from_value(shown["config"].clone()).unwrap();
    assert_eq!(written, inspected);

    let process = written.process().as_ref().unwrap();
    assert_eq!(process.args().as_deref(), Some(&["true".to_string()][..]));
    assert!(process.env().iter().flatten().any(|e| e == "SECRET=x"));
    assert_eq!(process.cwd().to_str(), Some("/tmp"));
    let memory = written
        .linux()
        .as_ref()
        .and_then(|l| l.resources().as_ref())
        .and_then(|r| r.memory().as_ref())
        .and_then(|m| m.limit());
    assert_eq!(memory, Some(32 << 20));
    // What inspect printed before is still there beside it.
    assert_eq!(shown["status"], "exited");
    assert_eq!(shown["command"][0], "true");

    assert_eq!(env.hako(&["rm", "kept"]).code, 0);
    env.assert_clean();
}

#[test]
fn exec_enters_a_container_made_before_config_json_from_its_state() {
    // A container an older hako made has no config.json; its state keeps the
    // user, environment, working directory and capabilities exec needs.
    let env = TestEnv::new();
    let out = env.hako(&[
        "run",
        "-d",
        "--name",
        "older",
        "-u",
        "1000:50",
        "-e",
        "GREETING=hello",
        "-w",
        "/tmp",
        "busybox",
        "sleep",
        "1000",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = env.inspect("older")["id"].as_str().unwrap().to_string();
    let probe = [
        "exec",
        "older",
        "sh",
        "-c",
        "echo $(id -u):$(id -g) $GREETING $(pwd)",
    ];
    let with_config = env.hako(&probe);
    assert_eq!(with_config.code, 0, "{}", with_config.stderr);
    assert_eq!(with_config.stdout.trim(), "1000:50 hello /tmp");

    std::fs::remove_file(env.containers_dir().join(&id).join("config.json")).unwrap();
    let from_state = env.hako(&probe);
    assert_eq!(from_state.code, 0, "{}", from_state.stderr);
    assert_eq!(from_state.stdout, with_config.stdout);

    assert_eq!(env.hako(&["rm", "-f", "older"]).code, 0);
    env.assert_clean();
}
