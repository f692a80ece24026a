// SPDX-License-Identifier: GPL-2.0
//! rvsadm: administer Linux Virtual Server through the IPVS generic
//! netlink family, against rvs.ko or the kernel's ip_vs.ko. Accepts
//! ipvsadm's options and prints its formats; adds `--json` and errors in
//! words.

mod args;
mod list;
mod names;

use args::{Command, Format};
use rvs_ipvs::Client;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "\
rvsadm (ipvsadm-compatible) -- administer Linux Virtual Server
Usage:
  rvsadm -L|l [options]      list the table
  rvsadm -h                  this help
Options:
  --numeric      -n          numeric output of addresses and ports
  --stats                    output of statistics information
  --rate                     output of rate information
  --thresholds               output of thresholds information
  --persistent-conn          output of persistent connection info
  --exact        -x          expand numbers (display exact values)
  --sort / --nosort          sort (the default) or keep the kernel's order
  --json                     print the listing as JSON
";

fn list(format: &Format) -> Result<String, rvs_ipvs::Error> {
    let mut c = Client::connect()?;
    let info = c.info()?;
    let mut entries = Vec::new();
    for svc in c.services()? {
        let dests = c.dests(&svc)?;
        entries.push(list::Entry { svc, dests });
    }
    list::sort(&mut entries, format);
    Ok(if format.json {
        let mut s =
            serde_json::to_string_pretty(&list::render_json(&info, &entries)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        list::render_text(&info, &entries, format)
    })
}

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rvsadm: {e}");
            eprintln!("Try 'rvsadm -h' for more information.");
            return ExitCode::from(2);
        }
    };
    match args.command {
        Command::Help => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!(
                "rvsadm {} (ipvsadm v1.31 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::SUCCESS
        }
        Command::List => match list(&args.format) {
            Ok(text) => {
                let mut out = std::io::stdout().lock();
                if out.write_all(text.as_bytes()).is_err() {
                    return ExitCode::FAILURE;
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rvsadm: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
