// SPDX-License-Identifier: GPL-2.0
//! ipvsadm's command line: the same commands and options, spelled the same
//! ways (short options may be bundled, `-Ln`, and take their value joined,
//! `-srr`, or as the next word; long options take `--opt=value` or
//! `--opt value`), the same checks and exit codes, plus `--json`.

use rvs_ipvs::consts::{IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3};
use std::fmt;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    List,
    Help,
    Version,
    AddService,
    EditService,
    DelService,
    Clear,
    Restore,
    Save,
    AddServer,
    EditServer,
    DelServer,
    Zero,
    SetTimeout,
    StartDaemon,
    StopDaemon,
}

/// Listing formats (ipvsadm's FMT_* bits) and what `-L` lists.
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
    pub timeout: bool,
    pub daemon: bool,
    pub connection: bool,
    pub tun_info: bool,
}

/// `-t/-u/--sctp-service host[:port]` or `-f mark`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcArg {
    Addr { protocol: u16, spec: String },
    Fwmark(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub command: Option<Command>,
    pub format: Format,
    pub svc: Option<SvcArg>,
    pub ipv6: bool,
    pub sched: Option<String>,
    /// `-p [timeout]`: Some(timeout) when persistent.
    pub persistent: Option<u32>,
    pub netmask: Option<String>,
    /// `-b`: the scheduler flags, checked against the scheduler named
    /// before them (or the default) as ipvsadm checks them.
    pub sched_flags: Option<u32>,
    pub pe: Option<String>,
    pub ops: bool,
    pub server: Option<String>,
    pub fwd: Option<u32>,
    pub weight: Option<i32>,
    pub u_threshold: Option<u32>,
    pub l_threshold: Option<u32>,
    pub tun_type: Option<u8>,
    pub tun_port: Option<u16>,
    pub tun_flags: Option<u16>,
    pub set: Option<(u32, u32, u32)>,
    pub daemon_state: Option<String>,
    pub mcast_ifn: Option<String>,
    pub syncid: Option<u32>,
    pub mcast_group: Option<std::net::IpAddr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
    pub sync_maxlen: Option<u16>,
    /// `-L -c`'s filters (rvs's own options): a real server
    /// (`--server addr[:port]`), clients (`--client addr[/bits]`), a state.
    pub conn_server: Option<String>,
    pub conn_client: Option<String>,
    pub conn_state: Option<String>,
    /// The options given, as bits of `OPTNAMES`.
    pub opts: u64,
}

/// A command line that cannot be run, with what is wrong and ipvsadm's exit
/// code for it: 2 for a refused option or value, 255 where ipvsadm's option
/// parser (popt) gives up (unknown option, missing value, no command first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String, pub u8);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(s: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(s.into(), 2))
}

fn popt_err(s: impl Into<String>) -> UsageError {
    UsageError(s.into(), 255)
}

/// ipvsadm's option names, in the order of its commands-versus-options
/// table: the words of its "Illegal ...", "You need to supply ..." and
/// "multiple ..." messages. `Args::opts` has bit i set for `OPTNAMES[i]`.
pub const OPTNAMES: [&str; 34] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

fn bit(name: &str) -> u64 {
    OPTNAMES
        .iter()
        .position(|n| *n == name)
        .map_or(0, |i| 1u64 << i)
}

fn bits(names: &[&str]) -> u64 {
    names.iter().fold(0, |b, n| b | bit(n))
}

/// The option (ipvsadm's name) that a long option of ours sets, if any.
fn optname(long: &str) -> Option<&'static str> {
    Some(match long {
        "tcp-service" | "udp-service" | "sctp-service" | "fwmark-service" => "service-address",
        "gatewaying" | "ipip" | "masquerading" => "forwarding-method",
        l => return OPTNAMES.iter().find(|n| **n == l).copied(),
    })
}

/// ipvsadm's commands-versus-options table: the command's name in messages,
/// the options it takes and those it needs. `None`: not checked (help).
fn command_table(c: Command) -> Option<(&'static str, u64, u64)> {
    let svc = &["service-address"][..];
    let svc_rs = &["service-address", "real-server"][..];
    Some(match c {
        Command::AddService | Command::EditService => (
            if c == Command::AddService {
                "add-service"
            } else {
                "edit-service"
            },
            bits(&[
                "service-address",
                "scheduler",
                "persistent",
                "netmask",
                "ops",
                "pe",
                "sched-flags",
            ]),
            bits(svc),
        ),
        Command::DelService => ("delete-service", bits(svc), bits(svc)),
        Command::Clear => ("flush", 0, 0),
        Command::Restore => ("restore", 0, 0),
        Command::Save => ("save", bits(&["numeric"]), 0),
        Command::AddServer | Command::EditServer => (
            if c == Command::AddServer {
                "add-server"
            } else {
                "edit-server"
            },
            bits(&[
                "service-address",
                "real-server",
                "forwarding-method",
                "weight",
                "u-threshold",
                "l-threshold",
                "tun-type",
                "tun-port",
                "tun-nocsum",
                "tun-csum",
                "tun-remcsum",
            ]),
            bits(svc_rs),
        ),
        Command::DelServer => ("delete-server", bits(svc_rs), bits(svc_rs)),
        Command::List => (
            "list",
            bits(&[
                "numeric",
                "connection",
                "service-address",
                "timeout",
                "daemon",
                "stats",
                "rate",
                "thresholds",
                "persistent-conn",
                "nosort",
                "syncid",
                "exact",
                "tun-info",
            ]),
            0,
        ),
        Command::Zero => ("zero", bits(svc), 0),
        Command::SetTimeout => ("set", 0, 0),
        Command::StartDaemon => (
            "start-daemon",
            bits(&[
                "mcast-interface",
                "syncid",
                "mcast-group",
                "mcast-port",
                "mcast-ttl",
                "sync-maxlen",
            ]),
            0,
        ),
        Command::StopDaemon => ("stop-daemon", bits(&["syncid"]), 0),
        Command::Help | Command::Version => return None,
    })
}

/// ipvsadm's tunnel-type-versus-options table: (options taken, needed).
fn tunnel_table(t: u8) -> (&'static str, u64, u64) {
    match t {
        1 => (
            "gue",
            bits(&["tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"]),
            bits(&["tun-port"]),
        ),
        2 => ("gre", bits(&["tun-nocsum", "tun-csum"]), 0),
        _ => ("ipip", 0, 0),
    }
}

/// One of ipvsadm's option tables: among the options in `scope`, those
/// given but not `allowed`, or `needed` but not given, refuse the line in
/// ipvsadm's words ("command" or "tunnel type" as `kind`), first in table
/// order.
fn check_table(
    given: u64,
    scope: u64,
    allowed: u64,
    needed: u64,
    name: &str,
    kind: &str,
) -> Result<(), UsageError> {
    for (i, opt) in OPTNAMES.iter().enumerate() {
        let b = 1u64 << i;
        if scope & b == 0 {
            continue;
        }
        if given & b != 0 && allowed & b == 0 {
            return err(format!("Illegal '{opt}' option with the '{name}' {kind}"));
        }
        if given & b == 0 && needed & b != 0 {
            return err(format!(
                "You need to supply the '{opt}' option for the '{name}' {kind}"
            ));
        }
    }
    Ok(())
}

/// The checks ipvsadm makes once the whole line is read: options against
/// the command, then tunnel options against the forwarding method and the
/// tunnel type.
fn check_options(a: &Args) -> Result<(), UsageError> {
    let Some(c) = a.command else {
        return Ok(());
    };
    let Some((cname, allowed, needed)) = command_table(c) else {
        return Ok(());
    };
    check_table(a.opts, u64::MAX, allowed, needed, cname, "command")?;
    let tun = bits(&[
        "tun-type",
        "tun-port",
        "tun-nocsum",
        "tun-csum",
        "tun-remcsum",
    ]);
    if a.opts & tun != 0 && a.fwd != Some(2) {
        return err("Tunnel options conflict with forward method");
    }
    if a.fwd == Some(2) {
        let (tname, allowed, needed) = tunnel_table(a.tun_type.unwrap_or(0));
        let scope = tun & !bit("tun-type");
        check_table(a.opts, scope, allowed, needed, tname, "tunnel type")?;
    }
    Ok(())
}

/// ipvsadm's longest persistence timeout (31 days).
pub const MAX_TIMEOUT: u32 = 86400 * 31;

fn number<T: std::str::FromStr>(v: &str, what: &str, min: i64, max: i64) -> Result<T, UsageError> {
    match v.parse::<i64>() {
        Ok(n) if n >= min && n <= max => v
            .parse::<T>()
            .map_err(|_| UsageError(format!("illegal {what} specified"), 2)),
        _ => err(format!("illegal {what} specified")),
    }
}

/// Which options take a value: (short, long, takes value).
const OPTS: &[(Option<char>, &str, Val)] = &[
    (Some('A'), "add-service", Val::None),
    (Some('E'), "edit-service", Val::None),
    (Some('D'), "delete-service", Val::None),
    (Some('C'), "clear", Val::None),
    (Some('R'), "restore", Val::None),
    (Some('S'), "save", Val::None),
    (Some('a'), "add-server", Val::None),
    (Some('e'), "edit-server", Val::None),
    (Some('d'), "delete-server", Val::None),
    (Some('L'), "list", Val::None),
    (Some('l'), "list", Val::None),
    (Some('Z'), "zero", Val::None),
    (None, "set", Val::Three),
    (None, "start-daemon", Val::One),
    (None, "stop-daemon", Val::One),
    (Some('h'), "help", Val::None),
    (Some('v'), "version", Val::None),
    (Some('t'), "tcp-service", Val::One),
    (Some('u'), "udp-service", Val::One),
    (None, "sctp-service", Val::One),
    (Some('f'), "fwmark-service", Val::One),
    (Some('s'), "scheduler", Val::One),
    (Some('p'), "persistent", Val::Optional),
    (Some('M'), "netmask", Val::One),
    (Some('b'), "sched-flags", Val::One),
    (None, "pe", Val::One),
    (Some('o'), "ops", Val::None),
    (Some('r'), "real-server", Val::One),
    (Some('g'), "gatewaying", Val::None),
    (Some('i'), "ipip", Val::None),
    (Some('m'), "masquerading", Val::None),
    (Some('w'), "weight", Val::One),
    (Some('x'), "u-threshold", Val::One),
    (Some('y'), "l-threshold", Val::One),
    (None, "tun-type", Val::One),
    (None, "tun-port", Val::One),
    (None, "tun-nocsum", Val::None),
    (None, "tun-csum", Val::None),
    (None, "tun-remcsum", Val::None),
    (Some('n'), "numeric", Val::None),
    (None, "stats", Val::None),
    (None, "rate", Val::None),
    (None, "thresholds", Val::None),
    (None, "persistent-conn", Val::None),
    (Some('X'), "exact", Val::None),
    (None, "sort", Val::None),
    (None, "nosort", Val::None),
    (None, "timeout", Val::None),
    (None, "daemon", Val::None),
    (None, "mcast-interface", Val::One),
    (None, "syncid", Val::One),
    (Some('6'), "ipv6", Val::None),
    (None, "json", Val::None),
    (None, "server", Val::One),
    (None, "client", Val::One),
    (None, "state", Val::One),
    (Some('c'), "connection", Val::None),
    (None, "tun-info", Val::None),
    (None, "mcast-group", Val::One),
    (None, "mcast-port", Val::One),
    (None, "mcast-ttl", Val::One),
    (None, "sync-maxlen", Val::One),
];

/// The long names of the commands: one of them must come first.
const COMMANDS: &[&str] = &[
    "add-service",
    "edit-service",
    "delete-service",
    "clear",
    "restore",
    "save",
    "add-server",
    "edit-server",
    "delete-server",
    "list",
    "zero",
    "help",
    "version",
    "set",
    "start-daemon",
    "stop-daemon",
];

/// `-b flag[,flag...]`: ipvsadm's scheduler flag names; sh-* and mh-* only
/// with their scheduler.
fn sched_flags(spec: &str, sched: &str) -> Result<u32, UsageError> {
    let mut f = 0;
    for name in spec.split(',') {
        let (bit, needs) = match name {
            "flag-1" => (IP_VS_SVC_F_SCHED1, None),
            "flag-2" => (IP_VS_SVC_F_SCHED2, None),
            "flag-3" => (IP_VS_SVC_F_SCHED3, None),
            "sh-fallback" => (IP_VS_SVC_F_SCHED1, Some("sh")),
            "sh-port" => (IP_VS_SVC_F_SCHED2, Some("sh")),
            "mh-fallback" => (IP_VS_SVC_F_SCHED1, Some("mh")),
            "mh-port" => (IP_VS_SVC_F_SCHED2, Some("mh")),
            _ => return err(format!("invalid scheduler flag `{name}'")),
        };
        if needs.is_some_and(|n| n != sched) {
            return err(format!("incompatible scheduler flag `{name}'"));
        }
        f |= bit;
    }
    Ok(f)
}

/// `--mcast-group`: an IPv4 or IPv6 multicast address (ipvsadm's words).
fn mcast_group(s: &str) -> Result<std::net::IpAddr, UsageError> {
    use std::net::IpAddr;
    if s.contains(':') {
        match s.parse::<std::net::Ipv6Addr>() {
            Ok(a) if a.is_multicast() => Ok(IpAddr::V6(a)),
            _ => err(format!("invalid IPv6 mcast-group `{s}'")),
        }
    } else {
        match s.parse::<std::net::Ipv4Addr>() {
            Ok(a) if a.is_multicast() => Ok(IpAddr::V4(a)),
            _ => err(format!("invalid IPv4 mcast-group `{s}'")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    None,
    One,
    Optional,
    Three,
}

fn set_command(a: &mut Args, c: Command, opt: &str) -> Result<(), UsageError> {
    match a.command {
        Some(prev) if prev != c => err(format!("{opt}: only one command may be given")),
        _ => {
            a.command = Some(c);
            Ok(())
        }
    }
}

/// Parses one command line (without the program name).
pub fn parse<I: IntoIterator<Item = String>>(argv: I) -> Result<Args, UsageError> {
    let words: Vec<String> = argv.into_iter().collect();
    let mut a = Args::default();
    let mut sort_given = false;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        // (name, inline value) for each option in this word
        let mut items: Vec<(String, Option<String>)> = Vec::new();
        if let Some(long) = w.strip_prefix("--") {
            let (name, val) = match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            };
            items.push((name, val));
        } else if let Some(short) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            let chars: Vec<char> = short.chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                // 'x' is both -x (u-threshold, with a value) and --exact
                let opt = OPTS
                    .iter()
                    .find(|(s, _, _)| *s == Some(c))
                    .ok_or_else(|| popt_err(format!("-{c}: unknown option")))?;
                let long = opt.1.to_string();
                if opt.2 != Val::None && k < chars.len() {
                    items.push((long, Some(chars[k..].iter().collect())));
                    break;
                }
                items.push((long, None));
            }
        } else {
            return err(format!("unexpected argument '{w}'"));
        }
        for (name, inline) in items {
            if a.command.is_none() && !COMMANDS.contains(&name.as_str()) {
                return Err(popt_err(format!(
                    "the command (-A -E -D -C -R -S -a -e -d -L -Z --set --start-daemon \
                     --stop-daemon -h) must come first, not --{name}"
                )));
            }
            if let Some(on) = optname(&name) {
                if a.opts & bit(on) != 0 {
                    return err(format!("multiple '{on}' options specified"));
                }
                a.opts |= bit(on);
            }
            let kind = OPTS
                .iter()
                .find(|(_, l, _)| *l == name)
                .map(|o| o.2)
                .ok_or_else(|| popt_err(format!("--{name}: unknown option")))?;
            let mut take = |what: &str| -> Result<String, UsageError> {
                if let Some(v) = inline.clone() {
                    return Ok(v);
                }
                let v = words
                    .get(i)
                    .ok_or_else(|| popt_err(format!("{what}: missing argument")))?;
                i += 1;
                Ok(v.clone())
            };
            match name.as_str() {
                "add-service" => set_command(&mut a, Command::AddService, "-A")?,
                "edit-service" => set_command(&mut a, Command::EditService, "-E")?,
                "delete-service" => set_command(&mut a, Command::DelService, "-D")?,
                "clear" => set_command(&mut a, Command::Clear, "-C")?,
                "restore" => set_command(&mut a, Command::Restore, "-R")?,
                "save" => set_command(&mut a, Command::Save, "-S")?,
                "add-server" => set_command(&mut a, Command::AddServer, "-a")?,
                "edit-server" => set_command(&mut a, Command::EditServer, "-e")?,
                "delete-server" => set_command(&mut a, Command::DelServer, "-d")?,
                "list" => set_command(&mut a, Command::List, "-L")?,
                "zero" => set_command(&mut a, Command::Zero, "-Z")?,
                // ipvsadm answers these at once, whatever follows.
                "help" => {
                    set_command(&mut a, Command::Help, "-h")?;
                    return Ok(a);
                }
                "version" => {
                    set_command(&mut a, Command::Version, "-v")?;
                    return Ok(a);
                }
                "set" => {
                    set_command(&mut a, Command::SetTimeout, "--set")?;
                    let mut t = [0u32; 3];
                    for v in t.iter_mut() {
                        let s = take("--set")?;
                        *v = number(&s, "timeout value", 0, i64::from(i32::MAX))?;
                    }
                    a.set = Some((t[0], t[1], t[2]));
                }
                "start-daemon" | "stop-daemon" => {
                    let c = if name == "start-daemon" {
                        Command::StartDaemon
                    } else {
                        Command::StopDaemon
                    };
                    set_command(&mut a, c, &name)?;
                    let s = take(&name)?;
                    if s != "master" && s != "backup" {
                        return err("illegal start-daemon parameter specified");
                    }
                    a.daemon_state = Some(s);
                }
                "tcp-service" | "udp-service" | "sctp-service" => {
                    let protocol = match name.as_str() {
                        "tcp-service" => 6,
                        "udp-service" => 17,
                        _ => 132,
                    };
                    a.svc = Some(SvcArg::Addr {
                        protocol,
                        spec: take(&name)?,
                    });
                }
                "fwmark-service" => {
                    let s = take("-f")?;
                    let mark = number(&s, "fwmark", 1, i64::from(u32::MAX)).map_err(|_| {
                        UsageError(format!("invalid fwmark value `{s}' specified"), 2)
                    })?;
                    a.svc = Some(SvcArg::Fwmark(mark));
                }
                "scheduler" => a.sched = Some(take("-s")?),
                "persistent" => {
                    let v = match inline.clone() {
                        Some(v) => Some(v),
                        None => match words.get(i) {
                            Some(n) if !n.starts_with('-') => {
                                i += 1;
                                Some(n.clone())
                            }
                            _ => None,
                        },
                    };
                    a.persistent = Some(match v {
                        Some(v) => match v.parse::<u32>() {
                            Ok(n) if (1..=MAX_TIMEOUT).contains(&n) => n,
                            _ => return err(format!("invalid timeout value `{v}' specified")),
                        },
                        None => 360,
                    });
                }
                "netmask" => a.netmask = Some(take("-M")?),
                "sched-flags" => {
                    let spec = take("-b")?;
                    a.sched_flags = Some(sched_flags(&spec, a.sched.as_deref().unwrap_or("wlc"))?);
                }
                "pe" => a.pe = Some(take("--pe")?),
                "ops" => a.ops = true,
                "real-server" => a.server = Some(take("-r")?),
                "gatewaying" => a.fwd = Some(3),
                "ipip" => a.fwd = Some(2),
                "masquerading" => a.fwd = Some(0),
                "weight" => {
                    let s = take("-w")?;
                    a.weight = Some(number(&s, "weight", 0, 65535)?);
                }
                "u-threshold" => {
                    // ipvsadm: -x is the upper threshold, --exact its long
                    // listing option; -x with a command other than list
                    // takes a value.
                    let s = take("-x")?;
                    a.u_threshold = Some(number(&s, "upper threshold", 0, i64::from(i32::MAX))?);
                }
                "l-threshold" => {
                    let s = take("-y")?;
                    a.l_threshold = Some(number(&s, "lower threshold", 0, i64::from(i32::MAX))?);
                }
                "tun-type" => {
                    a.tun_type = Some(match take("--tun-type")?.as_str() {
                        "ipip" => 0,
                        "gue" => 1,
                        "gre" => 2,
                        _ => return err("illegal tunnel type specified"),
                    })
                }
                "tun-port" => {
                    let s = take("--tun-port")?;
                    a.tun_port = Some(number(&s, "tunnel port", 1, 65535)?);
                }
                "tun-nocsum" => a.tun_flags = Some(0),
                "tun-csum" => a.tun_flags = Some(1),
                "tun-remcsum" => a.tun_flags = Some(2),
                "numeric" => a.format.numeric = true,
                "stats" => a.format.stats = true,
                "rate" => a.format.rate = true,
                "thresholds" => a.format.thresholds = true,
                "persistent-conn" => a.format.persistent_conn = true,
                "exact" => a.format.exact = true,
                "sort" => sort_given = true,
                "nosort" => a.format.nosort = true,
                "timeout" => a.format.timeout = true,
                "daemon" => a.format.daemon = true,
                "mcast-interface" => a.mcast_ifn = Some(take("--mcast-interface")?),
                "syncid" => {
                    let s = take("--syncid")?;
                    a.syncid = Some(number(&s, "syncid", 0, 255)?);
                }
                "ipv6" => {
                    if !matches!(a.svc, Some(SvcArg::Fwmark(_))) {
                        return err("-6 used before -f");
                    }
                    a.ipv6 = true
                }
                "tun-info" => a.format.tun_info = true,
                "mcast-group" => {
                    let s = take("--mcast-group")?;
                    a.mcast_group = Some(mcast_group(&s)?);
                }
                "mcast-port" => {
                    let s = take("--mcast-port")?;
                    a.mcast_port = Some(number(&s, "mcast-port", 1, 65535)?);
                }
                "mcast-ttl" => {
                    let s = take("--mcast-ttl")?;
                    a.mcast_ttl = Some(number(&s, "mcast-ttl", 1, 255)?);
                }
                "sync-maxlen" => {
                    let s = take("--sync-maxlen")?;
                    a.sync_maxlen = Some(number(&s, "sync-maxlen", 1, 65535 - 20 - 8)?);
                }
                "json" => a.format.json = true,
                "server" => a.conn_server = Some(take("--server")?),
                "client" => a.conn_client = Some(take("--client")?),
                "state" => a.conn_state = Some(take("--state")?),
                "connection" => a.format.connection = true,
                _ => return err(format!("unknown option --{name}")),
            }
            let _ = kind;
        }
    }
    if sort_given {
        a.format.nosort = false;
    }
    if a.command.is_none() {
        // ipvsadm with no arguments lists the table.
        a.command = Some(Command::List);
    }
    check_options(&a)?;
    Ok(a)
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
        assert_eq!(a.command, Some(Command::List));
        assert!(a.format.numeric);
    }

    #[test]
    fn values_joined_or_separate() {
        let a = p("-A -t 192.0.2.1:80 -srr -p").unwrap();
        assert_eq!(a.sched.as_deref(), Some("rr"));
        assert_eq!(a.persistent, Some(360));
        let b = p("-A --tcp-service=192.0.2.1:80 --scheduler rr -p 60 -M 255.255.255.0").unwrap();
        assert_eq!(b.persistent, Some(60));
        assert_eq!(b.netmask.as_deref(), Some("255.255.255.0"));
        assert_eq!(
            b.svc,
            Some(SvcArg::Addr {
                protocol: 6,
                spec: "192.0.2.1:80".into()
            })
        );
    }

    #[test]
    fn server_options() {
        let a = p("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3 -x 100 -y 10").unwrap();
        assert_eq!(a.fwd, Some(0));
        assert_eq!(a.weight, Some(3));
        assert_eq!((a.u_threshold, a.l_threshold), (Some(100), Some(10)));
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        assert_eq!(p("").unwrap().command, Some(Command::List));
        assert_eq!(
            p("-L -q").unwrap_err(),
            UsageError("-q: unknown option".into(), 255)
        );
        assert_eq!(
            p("-A -t 1.2.3.4:80 -r 1.1.1.1").unwrap_err(),
            UsageError(
                "Illegal 'real-server' option with the 'add-service' command".into(),
                2
            )
        );
        assert_eq!(
            p("-a -t 1.2.3.4:80").unwrap_err().0,
            "You need to supply the 'real-server' option for the 'add-server' command"
        );
        assert_eq!(
            p("-a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-type gue")
                .unwrap_err()
                .0,
            "You need to supply the 'tun-port' option for the 'gue' tunnel type"
        );
        assert_eq!(
            p("-a -t 1.2.3.4:80 -r 1.1.1.1 -m --tun-csum")
                .unwrap_err()
                .0,
            "Tunnel options conflict with forward method"
        );
        assert_eq!(
            p("-L -n -n").unwrap_err().0,
            "multiple 'numeric' options specified"
        );
        assert_eq!(p("-n -L").unwrap_err().1, 255);
        assert!(p("--start-daemon master --mcast-group 10.0.0.1")
            .unwrap_err()
            .0
            .contains("invalid IPv4 mcast-group"));
        assert!(p("-L -h").unwrap_err().0.contains("only one command"));
        assert!(p("-A -t 1.2.3.4:80 -p 99999999")
            .unwrap_err()
            .0
            .contains("invalid timeout"));
        assert!(p("-a -t 1.2.3.4:80 -r 1.1.1.1 -w 70000")
            .unwrap_err()
            .0
            .contains("weight"));
        assert_eq!(p("--set 1 2").unwrap_err().0, "--set: missing argument");
    }

    #[test]
    fn set_takes_three_values() {
        assert_eq!(p("--set 10 20 30").unwrap().set, Some((10, 20, 30)));
    }
}
