// SPDX-License-Identifier: GPL-2.0
//! `-R --json`: the table that `-L --json` (or `-S --json`) printed, made
//! into the `-A`/`-a` commands that rebuild it. Counters, connection counts
//! and the flags the kernel sets itself (`hashed`) are what the listing
//! reports, not configuration: they are not restored.

use serde_json::Value;

fn field<'a>(o: &'a Value, name: &str, what: &str) -> Result<&'a Value, String> {
    o.get(name)
        .ok_or_else(|| format!("{what}: no \"{name}\" field"))
}

fn text<'a>(o: &'a Value, name: &str, what: &str) -> Result<&'a str, String> {
    field(o, name, what)?
        .as_str()
        .ok_or_else(|| format!("{what}: \"{name}\" is not a string"))
}

fn number(o: &Value, name: &str, what: &str) -> Result<i64, String> {
    field(o, name, what)?
        .as_i64()
        .ok_or_else(|| format!("{what}: \"{name}\" is not a number"))
}

fn flag(o: &Value, name: &str) -> bool {
    o.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// `host:port`, bracketed for IPv6, as the command line takes it.
fn endpoint(o: &Value, what: &str) -> Result<String, String> {
    let addr = text(o, "address", what)?;
    let port = number(o, "port", what)?;
    Ok(if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    })
}

/// The virtual service's options (`-t|-u|--sctp-service addr:port` or
/// `-f mark [-6]`).
fn service_spec(s: &Value, what: &str) -> Result<String, String> {
    if let Some(mark) = s.get("fwmark").and_then(Value::as_u64) {
        let six = if text(s, "family", what)? == "inet6" {
            " -6"
        } else {
            ""
        };
        return Ok(format!("-f {mark}{six}"));
    }
    let opt = match text(s, "protocol", what)? {
        "TCP" => "-t",
        "UDP" => "-u",
        "SCTP" => "--sctp-service",
        p => return Err(format!("{what}: unknown protocol \"{p}\"")),
    };
    Ok(format!("{opt} {}", endpoint(s, what)?))
}

fn service_line(s: &Value, spec: &str, what: &str) -> Result<String, String> {
    let mut l = format!("-A {spec} -s {}", text(s, "scheduler", what)?);
    if flag(s, "persistent") {
        l += &format!(" -p {}", number(s, "timeout", what)?);
        match field(s, "netmask", what)? {
            Value::String(m) if m != "255.255.255.255" => l += &format!(" -M {m}"),
            Value::Number(n) if n.as_u64() != Some(128) => l += &format!(" -M {n}"),
            _ => {}
        }
    }
    if let Some(pe) = s.get("pe").and_then(Value::as_str) {
        l += &format!(" --pe {pe}");
    }
    let sched_flags: Vec<&str> = s
        .get("sched_flags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !sched_flags.is_empty() {
        l += &format!(" -b {}", sched_flags.join(","));
    }
    if flag(s, "one_packet") {
        l += " -o";
    }
    Ok(l)
}

fn dest_line(d: &Value, spec: &str, what: &str) -> Result<String, String> {
    let fwd = match text(d, "forward", what)? {
        "Masq" => "-m",
        "Tunnel" => "-i",
        "Route" | "Local" => "-g",
        f => return Err(format!("{what}: unknown forwarding method \"{f}\"")),
    };
    let mut l = format!(
        "-a {spec} -r {} {fwd} -w {} -x {} -y {}",
        endpoint(d, what)?,
        number(d, "weight", what)?,
        number(d, "u_threshold", what)?,
        number(d, "l_threshold", what)?
    );
    if let Some(t) = d.get("tun_type").and_then(Value::as_str) {
        l += &format!(" --tun-type {t}");
        if t == "gue" {
            l += &format!(" --tun-port {}", number(d, "tun_port", what)?);
        }
        if let Some(c) = d.get("tun_csum").and_then(Value::as_str) {
            l += &format!(" --tun-{c}");
        }
    }
    Ok(l)
}

/// The command lines (without the program name) that rebuild the table of
/// a `-L --json` document.
pub fn rules(doc: &Value) -> Result<Vec<String>, String> {
    let services = field(doc, "services", "the document")?
        .as_array()
        .ok_or("the document: \"services\" is not a list")?;
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let what = format!("service {}", i + 1);
        let spec = service_spec(s, &what)?;
        out.push(service_line(s, &spec, &what)?);
        let dests = s
            .get("destinations")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (j, d) in dests.iter().enumerate() {
            out.push(dest_line(d, &spec, &format!("{what}, server {}", j + 1))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rebuilds_services_and_servers() {
        let doc = json!({"services": [
            {"family": "inet", "protocol": "TCP", "address": "203.0.113.10", "port": 80,
             "fwmark": null, "scheduler": "wlc", "sched_flags": [], "flags": ["persistent", "hashed"],
             "persistent": true, "timeout": 300, "netmask": "255.255.255.0", "one_packet": false,
             "pe": null, "destinations": [
                {"address": "198.51.100.11", "port": 8080, "forward": "Masq", "weight": 2,
                 "u_threshold": 100, "l_threshold": 10, "tun_type": null, "tun_port": null, "tun_csum": null},
                {"address": "198.51.100.12", "port": 80, "forward": "Tunnel", "weight": 1,
                 "u_threshold": 0, "l_threshold": 0, "tun_type": "gue", "tun_port": 6080, "tun_csum": "remcsum"}]},
            {"family": "inet6", "protocol": null, "address": null, "port": null, "fwmark": 7,
             "scheduler": "sh", "sched_flags": ["sh-fallback"], "flags": ["hashed", "sched-1"],
             "persistent": false, "timeout": null, "netmask": 128, "one_packet": true, "pe": null,
             "destinations": []},
            {"family": "inet6", "protocol": "SCTP", "address": "2001:db8:10::10", "port": 9,
             "fwmark": null, "scheduler": "rr", "sched_flags": [], "flags": ["persistent"],
             "persistent": true, "timeout": 60, "netmask": 64, "one_packet": false, "pe": null,
             "destinations": [{"address": "2001:db8:2::11", "port": 9, "forward": "Route", "weight": 0,
                 "u_threshold": 0, "l_threshold": 0, "tun_type": null, "tun_port": null, "tun_csum": null}]}
        ]});
        assert_eq!(
            rules(&doc).unwrap(),
            vec![
                "-A -t 203.0.113.10:80 -s wlc -p 300 -M 255.255.255.0",
                "-a -t 203.0.113.10:80 -r 198.51.100.11:8080 -m -w 2 -x 100 -y 10",
                "-a -t 203.0.113.10:80 -r 198.51.100.12:80 -i -w 1 -x 0 -y 0 --tun-type gue --tun-port 6080 --tun-remcsum",
                "-A -f 7 -6 -s sh -b sh-fallback -o",
                "-A --sctp-service [2001:db8:10::10]:9 -s rr -p 60 -M 64",
                "-a --sctp-service [2001:db8:10::10]:9 -r [2001:db8:2::11]:9 -g -w 0 -x 0 -y 0",
            ]
        );
        for l in rules(&doc).unwrap() {
            crate::args::parse(l.split_whitespace().map(String::from)).unwrap();
        }
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(
            rules(&json!({"services": [{"protocol": "ICMP", "address": "192.0.2.1", "port": 1}]}))
                .unwrap_err(),
            "service 1: unknown protocol \"ICMP\""
        );
        assert_eq!(
            rules(&json!([])).unwrap_err(),
            "the document: no \"services\" field"
        );
    }
}
