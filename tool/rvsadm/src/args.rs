// SPDX-License-Identifier: GPL-2.0
//! ipvsadm's command line: the same options, spelled the same ways
//! (short options may be bundled, `-Ln`; long options take `--opt=value`
//! or `--opt value`), plus `--json`.

use std::fmt;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    List,
    Help,
    Version,
}

/// Listing formats (ipvsadm's FMT_* bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format {
    pub numeric: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub exact: bool,
    pub nosort: bool,
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub command: Command,
    pub format: Format,
}

/// A command line that cannot be run, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Options of ipvsadm that rvsadm does not implement yet: recognised, so
/// that the refusal names them precisely.
const NOT_YET: &[&str] = &[
    "-A",
    "--add-service",
    "-E",
    "--edit-service",
    "-D",
    "--delete-service",
    "-C",
    "--clear",
    "-R",
    "--restore",
    "-S",
    "--save",
    "-a",
    "--add-server",
    "-e",
    "--edit-server",
    "-d",
    "--delete-server",
    "-Z",
    "--zero",
    "--set",
    "--start-daemon",
    "--stop-daemon",
    "-c",
    "--connection",
    "--timeout",
    "--daemon",
    "-t",
    "--tcp-service",
    "-u",
    "--udp-service",
    "--sctp-service",
    "-f",
    "--fwmark-service",
];

fn set_command(cur: &mut Option<Command>, c: Command, opt: &str) -> Result<(), UsageError> {
    match cur {
        Some(prev) if *prev != c => {
            Err(UsageError(format!("{opt}: only one command may be given")))
        }
        _ => {
            *cur = Some(c);
            Ok(())
        }
    }
}

pub fn parse<I: IntoIterator<Item = String>>(argv: I) -> Result<Args, UsageError> {
    let mut command = None;
    let mut format = Format::default();
    let mut sort_given = false;
    for arg in argv {
        let words: Vec<String> = if arg.starts_with("--") {
            vec![arg.clone()]
        } else if let Some(short) = arg.strip_prefix('-') {
            if short.is_empty() {
                return Err(UsageError("'-' is not an option".into()));
            }
            short.chars().map(|c| format!("-{c}")).collect()
        } else {
            return Err(UsageError(format!("unexpected argument '{arg}'")));
        };
        for w in words {
            match w.as_str() {
                "-L" | "-l" | "--list" => set_command(&mut command, Command::List, &w)?,
                "-h" | "--help" => set_command(&mut command, Command::Help, &w)?,
                "-v" | "--version" => set_command(&mut command, Command::Version, &w)?,
                "-n" | "--numeric" => format.numeric = true,
                "--stats" => format.stats = true,
                "--rate" => format.rate = true,
                "--thresholds" => format.thresholds = true,
                "--persistent-conn" => format.persistent_conn = true,
                "-x" | "--exact" => format.exact = true,
                "--sort" => sort_given = true,
                "--nosort" => format.nosort = true,
                "--json" => format.json = true,
                w if NOT_YET.contains(&w) => {
                    return Err(UsageError(format!(
                        "option {w} is not implemented in this rvsadm yet"
                    )))
                }
                w => return Err(UsageError(format!("unknown option {w}"))),
            }
        }
    }
    if sort_given {
        format.nosort = false;
    }
    let command = command.ok_or_else(|| UsageError("no command given (try -L -n)".into()))?;
    Ok(Args { command, format })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Args, UsageError> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn bundled_and_long_forms_are_equal() {
        let a = p("-Ln").unwrap();
        let b = p("--list --numeric").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.command, Command::List);
        assert!(a.format.numeric);
    }

    #[test]
    fn json_and_formats() {
        let a = p("-L -n --json --stats --exact").unwrap();
        assert!(a.format.json && a.format.stats && a.format.exact);
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        assert_eq!(p("").unwrap_err().0, "no command given (try -L -n)");
        assert!(p("-L -q").unwrap_err().0.contains("unknown option -q"));
        assert!(p("-L -h").unwrap_err().0.contains("only one command"));
        assert!(p("-A -t 1.2.3.4:80")
            .unwrap_err()
            .0
            .contains("not implemented"));
    }
}
