//! `hako demo`: starts the demo's containers and says what to do next.

use super::{fail, EXIT_HAKO_ERROR};
use crate::runtime::container::monitor::MonitorStderr;
use crate::runtime::demo::{self, DemoContainer};
use crate::runtime::paths::Paths;

pub fn demo(paths: &Paths, cgroup_parent: &str) -> i32 {
    match demo::start(paths, cgroup_parent, MonitorStderr::Caller) {
        Ok(containers) => {
            for container in containers {
                match container {
                    DemoContainer::Started(name) => println!("started {name}"),
                    DemoContainer::AlreadyRunning(name) => {
                        println!("started {name} (already running)")
                    }
                }
            }
            println!("open the dashboard with `hako` to watch each one trip its limit");
            0
        }
        Err(e) => fail(EXIT_HAKO_ERROR, e),
    }
}
