//! `hako exec`: run a new process inside a running container, as `docker exec`
//! does, and exit with its status.

use super::{fail, fail_with};
use crate::runtime::container::exec::{self, ExecRequest};
use crate::runtime::paths::Paths;
use crate::runtime::state;
use clap::Args;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Keep stdin open and pass it to the command.
    #[arg(short, long)]
    interactive: bool,
    /// Give the command a terminal (PTY).
    #[arg(short, long)]
    tty: bool,
    /// Set an environment variable (KEY=VALUE, or KEY to copy hako's own).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Working directory inside the container (default: the container's).
    #[arg(short, long, value_name = "DIR")]
    workdir: Option<String>,
    /// User to run as: UID or UID:GID (default: the container's).
    #[arg(short, long, value_name = "UID[:GID]")]
    user: Option<String>,
    /// Container name, id or id prefix.
    container: String,
    /// Command and arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

impl ExecArgs {
    fn request(&self) -> ExecRequest {
        ExecRequest {
            command: self.command.clone(),
            env: self.env.clone(),
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            interactive: self.interactive,
            tty: self.tty,
        }
    }
}

pub fn exec(paths: &Paths, args: ExecArgs) -> i32 {
    // An unknown container ends with 1, as docker's "No such container".
    let container = match state::resolve(paths, &args.container) {
        Ok(c) => c,
        Err(e) => return fail(1, e),
    };
    match exec::exec(paths, &container, &args.request()) {
        Ok(code) => code,
        Err(e) => fail_with(&e),
    }
}
