//! `hako image import|ls|rm`.

use super::{fail, EXIT_HAKO_ERROR};
use crate::runtime::image::{ImageStore, ImportOptions};
use crate::runtime::limits::format_bytes;
use crate::runtime::paths::Paths;
use crate::runtime::state;
use crate::runtime::text::escape_control;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Import a root filesystem: a tar, tar.gz or tar.zst file, a directory, or - for stdin.
    Import {
        /// Keep device nodes found in the archive (skipped by default).
        #[arg(long)]
        allow_devices: bool,
        /// Name of the new image.
        name: String,
        /// The archive, directory, or - for stdin.
        path: PathBuf,
    },
    /// List images.
    #[command(alias = "list")]
    Ls,
    /// Remove an image that no container uses.
    #[command(alias = "remove")]
    Rm { name: String },
}

pub fn image(paths: &Paths, command: ImageCommand) -> i32 {
    let store = ImageStore::new(paths.images());
    match command {
        ImageCommand::Import {
            allow_devices,
            name,
            path,
        } => match store.import(&name, &path, &ImportOptions { allow_devices }) {
            Ok(report) => {
                for warning in &report.warnings {
                    eprintln!("hako: warning: {}", escape_control(warning));
                }
                println!("{name}");
                0
            }
            Err(e) => fail(EXIT_HAKO_ERROR, e),
        },
        ImageCommand::Ls => match store.list() {
            Ok(images) => {
                println!("{:<24}{:<10}SIZE", "NAME", "KIND");
                for image in images {
                    let (kind, size) = if image.builtin {
                        ("built-in", "-".to_string())
                    } else {
                        ("imported", format_bytes(image.size_bytes))
                    };
                    println!("{:<24}{:<10}{}", image.name, kind, size);
                }
                0
            }
            Err(e) => fail(EXIT_HAKO_ERROR, e),
        },
        ImageCommand::Rm { name } => {
            let users: Vec<String> = match state::list(paths) {
                Ok(all) => all
                    .into_iter()
                    .filter(|c| c.image == name)
                    .map(|c| c.name)
                    .collect(),
                Err(e) => return fail(EXIT_HAKO_ERROR, e),
            };
            match store.remove(&name, &users) {
                Ok(()) => {
                    println!("{name}");
                    0
                }
                Err(e) => fail(1, e),
            }
        }
    }
}
