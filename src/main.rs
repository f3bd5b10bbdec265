//! The `decscope` binary: the desktop app (no subcommand) and the headless commands
//! `train`, `predict`, `inspect` and `bench`. Thin: everything that computes is in the
//! library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decscope: error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// The chain of causes joined in one line, each said once: a typed error that already
/// quotes its source ("cannot read: No such file or directory (os error 2)") would
/// otherwise end with that source again.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if msg.contains(&cause) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&cause);
    }
    msg
}
