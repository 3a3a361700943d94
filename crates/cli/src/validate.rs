//! `vedette validate -f FILE|DIR`: every error with file, line and field path; non-zero exit
//! when there is any.

use std::path::PathBuf;
use std::process::ExitCode;

use vedette_model::document;

/// Options of `vedette validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file or directory.
    #[arg(short = 'f', long = "filename", required = true)]
    paths: Vec<PathBuf>,
}

/// Prints each error as `file:line: field: message`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut errors = 0;
    let mut resources = 0;
    for path in &args.paths {
        let (loaded, errs) = document::load_path(path);
        resources += loaded.len();
        for e in &errs {
            eprintln!("{e}");
        }
        errors += errs.len();
    }
    if errors > 0 {
        eprintln!("{errors} error(s)");
        return Ok(ExitCode::FAILURE);
    }
    println!("{resources} resource(s) valid");
    Ok(ExitCode::SUCCESS)
}
