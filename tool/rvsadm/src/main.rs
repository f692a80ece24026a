// SPDX-License-Identifier: GPL-2.0
//! rvsadm: administer Linux Virtual Server through the IPVS generic
//! netlink family, against rvs.ko or the kernel's ip_vs.ko. Accepts
//! ipvsadm's commands and options and prints its formats, with its exit
//! codes (2 for a bad command line, 255 for a refusal by the kernel); adds
//! `--json` and errors in words.

mod args;
mod cmd;
mod conn;
mod json;
mod list;
mod metrics;
mod names;

use args::{Args, Command, Format};
use cmd::Failure;
use rvs_ipvs::consts::IPPROTO_TCP;
use rvs_ipvs::model::ConnFilter;
use rvs_ipvs::Client;

/// `EOPNOTSUPP`: ip_vs.ko's answer to rvs's own commands.
const EOPNOTSUPP: i32 = 95;
use std::io::{BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "\
rvsadm (ipvsadm v1.31 compatible) -- administer Linux Virtual Server
Usage:
  rvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe name] [-b flags] [-o]
  rvsadm -D virtual-service
  rvsadm -C
  rvsadm -R [--json]          restore rules (or a -L --json listing) from standard input
  rvsadm -S [-n] [--json]     save rules (or the -L --json listing) to standard output
  rvsadm -a|e virtual-service -r server-address [-g|i|m] [-w weight] [-x upper] [-y lower]
                              [--tun-type ipip|gue|gre] [--tun-port p] [--tun-nocsum|--tun-csum|--tun-remcsum]
  rvsadm -d virtual-service -r server-address
  rvsadm -L|l [virtual-service] [options]
  rvsadm -Z [virtual-service]
  rvsadm --set tcp tcpfin udp
  rvsadm --start-daemon master|backup --mcast-interface ifname [--syncid id]
                              [--sync-maxlen len] [--mcast-group addr] [--mcast-port port] [--mcast-ttl ttl]
  rvsadm --stop-daemon master|backup [--syncid id]
  rvsadm metrics [--listen addr:port]
                              the table in Prometheus's text format (over HTTP with --listen)
virtual-service: -t|u|--sctp-service host[:port] | -f fwmark [-6]
List options:
  -n --numeric  --stats  --rate  --thresholds  --persistent-conn  -X --exact
  --sort --nosort  --timeout  --daemon  --tun-info  -c --connection  --json
  with -c: --server addr[:port]  --client addr[/bits]  --state name
The command comes first; which options go with it is ipvsadm's table.
";

fn fail_kernel(what: &str) -> impl Fn(rvs_ipvs::Error) -> Failure + '_ {
    move |e| Failure::Kernel(what.to_string(), e)
}

fn entries(c: &mut Client, f: &Format) -> Result<Vec<list::Entry>, Failure> {
    let mut v = Vec::new();
    for svc in c.services().map_err(fail_kernel("cannot list services"))? {
        let dests = c
            .dests(&svc)
            .map_err(fail_kernel("cannot list real servers"))?;
        v.push(list::Entry { svc, dests });
    }
    list::sort(&mut v, f);
    Ok(v)
}

fn json_text(v: serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

fn list(a: &Args) -> Result<String, Failure> {
    let f = &a.format;
    if !f.connection
        && (a.conn_server.is_some() || a.conn_client.is_some() || a.conn_state.is_some())
    {
        return Err(Failure::Usage(
            "--server, --client and --state filter the connections: with -L -c".into(),
        ));
    }
    if f.connection {
        let conns = connections(a)?;
        return Ok(if f.json {
            json_text(conn::render_json(&conns))
        } else {
            conn::render(&conns, f)
        });
    }
    let mut c = Client::connect().map_err(fail_kernel("cannot reach IPVS"))?;
    if f.timeout {
        let t = c
            .timeouts()
            .map_err(fail_kernel("cannot read the timeouts"))?;
        return Ok(if f.json {
            json_text(serde_json::json!({"tcp": t.tcp, "tcpfin": t.tcp_fin, "udp": t.udp}))
        } else {
            format!(
                "Timeout (tcp tcpfin udp): {} {} {}\n",
                t.tcp, t.tcp_fin, t.udp
            )
        });
    }
    if f.daemon {
        let d = c
            .daemons()
            .map_err(fail_kernel("cannot list sync daemons"))?;
        if f.json {
            let v: Vec<_> = d
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "state": if d.state & 1 != 0 { "master" } else { "backup" },
                        "mcast_ifn": d.mcast_ifn,
                        "syncid": d.syncid,
                        "sync_maxlen": d.sync_maxlen,
                        "mcast_group": d.mcast_group.map(|g| g.to_string()),
                        "mcast_port": d.mcast_port,
                        "mcast_ttl": d.mcast_ttl,
                    })
                })
                .collect();
            return Ok(json_text(serde_json::json!(v)));
        }
        return Ok(list::render_daemons(&d));
    }
    let info = c
        .info()
        .map_err(fail_kernel("cannot read IPVS information"))?;
    if a.svc.is_some() {
        let key = cmd::service_model(a)?;
        let svc = c
            .service(&key)
            .map_err(fail_kernel("cannot read the service"))?;
        let dests = c
            .dests(&svc)
            .map_err(fail_kernel("cannot list real servers"))?;
        let mut e = vec![list::Entry { svc, dests }];
        list::sort(&mut e, f);
        return Ok(if f.json {
            json_text(list::render_json(&info, &e))
        } else {
            list::render_one(&e[0], f)
        });
    }
    let e = entries(&mut c, f)?;
    Ok(if f.json {
        json_text(list::render_json(&info, &e))
    } else {
        list::render_text(&info, &e, f)
    })
}

/// `-L -c`'s filters (a service, `--server`, `--client`, `--state`).
fn conn_filter(a: &Args) -> Result<(ConnFilter, Option<rvs_ipvs::model::Service>), Failure> {
    let mut f = ConnFilter::default();
    let svc = match a.svc {
        Some(_) => Some(cmd::service_model(a)?),
        None => None,
    };
    f.service = svc.as_ref().map(|s| s.key_attrs());
    if let Some(s) = &a.conn_server {
        let proto = svc.as_ref().map_or(IPPROTO_TCP, |s| s.protocol);
        let e = cmd::parse_endpoint(s, proto)
            .ok_or_else(|| Failure::Usage(format!("illegal server address `{s}' for --server")))?;
        // The service's port when none is given; without a service, one
        // must be.
        let port = e.port.or(svc.as_ref().map(|s| s.port)).ok_or_else(|| {
            Failure::Usage(format!(
                "--server `{s}': give the real server's port (address:port), or a service"
            ))
        })?;
        f.server = Some((e.addr, port));
    }
    if let Some(c) = &a.conn_client {
        let (addr, bits) = c.split_once('/').unwrap_or((c, ""));
        let addr: std::net::IpAddr = addr
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| Failure::Usage(format!("illegal client address `{c}' for --client")))?;
        let max = if addr.is_ipv6() { 128 } else { 32 };
        let bits = if bits.is_empty() {
            max
        } else {
            bits.parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| {
                    Failure::Usage(format!("illegal prefix length in `{c}' for --client"))
                })?
        };
        f.client = Some((addr, bits));
    }
    f.state = a.conn_state.clone();
    Ok((f, svc))
}

/// The connection table: rvs.ko's dump over netlink, filtered in the
/// kernel; from ip_vs.ko (no such command) /proc/net/ip_vs_conn, as
/// ipvsadm reads it, filtered here.
fn connections(a: &Args) -> Result<Vec<conn::Conn>, Failure> {
    let (f, svc) = conn_filter(a)?;
    match Client::connect().and_then(|mut c| c.conns(&f)) {
        Ok(v) => return Ok(v.iter().filter_map(conn::from_entry).collect()),
        Err(e) if e.errno() == Some(EOPNOTSUPP) || e == rvs_ipvs::Error::NoFamily => {}
        Err(e) => return Err(Failure::Kernel("cannot list the connections".into(), e)),
    }
    if svc.as_ref().is_some_and(|s| s.fwmark != 0) {
        return Err(Failure::Usage(
            "ip_vs.ko lists no firewall mark in /proc/net/ip_vs_conn: filtering by a \
             firewall-mark service needs rvs.ko"
                .into(),
        ));
    }
    let text = std::fs::read_to_string(conn::CONN_PROC_FILE).map_err(|e| {
        Failure::File(format!(
            "cannot open file {}: {e} (no IPVS connection table here)",
            conn::CONN_PROC_FILE
        ))
    })?;
    Ok(conn::parse(&text)
        .into_iter()
        .filter(|c| conn::keep(c, &f, svc.as_ref()))
        .collect())
}

fn save(a: &Args) -> Result<String, Failure> {
    let mut c = Client::connect().map_err(fail_kernel("cannot reach IPVS"))?;
    let e = entries(&mut c, &a.format)?;
    if a.format.json {
        let info = c
            .info()
            .map_err(fail_kernel("cannot read IPVS information"))?;
        return Ok(json_text(list::render_json(&info, &e)));
    }
    Ok(list::render_rules(&e, &a.format))
}

/// `-R`: every line of standard input as a command (with `--json`: the
/// commands that rebuild the table of a `-L --json` document); stops at
/// the first failure and says which line it was and what had been applied.
fn restore(json: bool) -> Result<(), Failure> {
    let mut c = Client::connect().map_err(fail_kernel("cannot reach IPVS"))?;
    let stdin = std::io::stdin();
    let lines: Vec<String> = if json {
        let doc: serde_json::Value = serde_json::from_reader(stdin.lock())
            .map_err(|e| Failure::Usage(format!("standard input is not JSON: {e}")))?;
        json::rules(&doc).map_err(|e| Failure::Usage(format!("cannot restore the JSON: {e}")))?
    } else {
        stdin
            .lock()
            .lines()
            .collect::<Result<_, _>>()
            .map_err(|e| Failure::Usage(format!("cannot read standard input: {e}")))?
    };
    let mut applied = 0usize;
    for (n, line) in lines.iter().enumerate() {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        let result = args::parse(words)
            .map_err(|e| Failure::Usage(e.0))
            .and_then(|a| cmd::execute(&mut c, &a));
        if let Err(e) = result {
            eprintln!(
                "rvsadm: restore stopped at line {}: {line}\nrvsadm: {applied} command(s) before it were applied",
                n + 1
            );
            return Err(e);
        }
        applied += 1;
    }
    Ok(())
}

fn print(text: &str) -> ExitCode {
    if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// One scrape: everything over netlink, in one pass.
fn scrape() -> Result<String, Failure> {
    let mut c = Client::connect().map_err(fail_kernel("cannot reach IPVS"))?;
    let info = c
        .info()
        .map_err(fail_kernel("cannot read IPVS information"))?;
    let t = c
        .timeouts()
        .map_err(fail_kernel("cannot read the timeouts"))?;
    let d = c
        .daemons()
        .map_err(fail_kernel("cannot list sync daemons"))?;
    let e = entries(&mut c, &args::Format::default())?;
    let table = match c.table() {
        Ok(t) => Some(t),
        Err(e) if e.errno() == Some(EOPNOTSUPP) => None,
        Err(e) => {
            return Err(Failure::Kernel(
                "cannot read the connection table's figures".into(),
                e,
            ))
        }
    };
    Ok(metrics::render(&info, &t, &e, &d, table.as_ref()))
}

/// `rvsadm metrics [--listen ADDR:PORT]`.
fn metrics_command(rest: &[String]) -> ExitCode {
    match rest {
        [] => match scrape() {
            Ok(t) => print(&t),
            Err(e) => {
                eprintln!("rvsadm: {e}");
                ExitCode::from(e.exit_code())
            }
        },
        [l, addr] if l == "--listen" => {
            match metrics::serve(addr, &|| scrape().map_err(|e| e.to_string())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("rvsadm: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("rvsadm: metrics takes only --listen ADDR:PORT (try 'rvsadm -h')");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("metrics") {
        return metrics_command(&argv[1..]);
    }
    let a = match args::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rvsadm: {e} (try 'rvsadm -h')");
            return ExitCode::from(e.1);
        }
    };
    let result = match a.command {
        Some(Command::Help) => return print(USAGE),
        Some(Command::Version) => {
            return print(&format!(
                "rvsadm {} (ipvsadm v1.31 compatible)\n",
                env!("CARGO_PKG_VERSION")
            ))
        }
        Some(Command::List) => match list(&a) {
            Ok(t) => return print(&t),
            // ipvsadm exits 1 when a listing fails, 2 when it could not
            // initialise for want of privilege.
            Err(Failure::Kernel(w, e)) => {
                eprintln!("rvsadm: {w}: {e}");
                if cmd::not_permitted(&e) {
                    return ExitCode::from(2);
                }
                return ExitCode::FAILURE;
            }
            Err(e) => Err(e),
        },
        Some(Command::Save) => match save(&a) {
            Ok(t) => return print(&t),
            Err(e) => Err(e),
        },
        Some(Command::Restore) => restore(a.format.json),
        _ => Client::connect()
            .map_err(fail_kernel("cannot reach IPVS"))
            .and_then(|mut c| cmd::execute(&mut c, &a)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvsadm: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
