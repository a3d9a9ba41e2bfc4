//! Output formats of list, ps, state and features (runc's).

use runc::State;
use serde_json::Value;

pub fn json_pretty(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("json"));
}

/// Prints a whole listing with one write (stdout is line-buffered).
fn print_all(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

pub fn list(states: &[State], format: &str, quiet: bool) -> runc::Result<()> {
    if quiet {
        print_all(&states.iter().map(|s| format!("{}\n", s.id)).collect::<String>());
        return Ok(());
    }
    if format == "json" {
        let v: Vec<Value> = states.iter().map(|s| s.to_oci_json()).collect();
        println!("{}", Value::Array(v));
        return Ok(());
    }
    let pids: Vec<String> = states.iter().map(|s| if s.status == runc::Status::Stopped { 0 } else { s.pid }.to_string()).collect();
    let rows: Vec<[&str; 6]> = states.iter().zip(&pids).map(|(s, pid)| [&s.id, pid, s.status.as_str(), &s.bundle, &s.created, &s.owner]).collect();
    let head = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"];
    let widths: Vec<usize> = (0..6).map(|i| rows.iter().chain([&head]).map(|r| r[i].len()).max().unwrap_or(0)).collect();
    let mut out = String::with_capacity((rows.len() + 1) * (widths.iter().sum::<usize>() + 16));
    for r in [&head].into_iter().chain(rows.iter()) {
        for (i, (c, w)) in r.iter().zip(&widths).enumerate() {
            out.push_str(c);
            if i < 5 {
                out.extend(std::iter::repeat_n(' ', w - c.len() + 3));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    print_all(&out);
    Ok(())
}

/// json: the pid array; table: ps(1) output cut to the container's processes.
pub fn ps(pids: &[i32], format: &str, args: &[String]) -> runc::Result<()> {
    if format == "json" {
        println!("{}", serde_json::to_string(pids).expect("json"));
        return Ok(());
    }
    let args: Vec<String> = if args.is_empty() { vec!["-ef".into()] } else { args.to_vec() };
    let out = std::process::Command::new("ps").args(&args).output().map_err(|e| runc::Error::sys("run ps", e))?;
    if !out.status.success() {
        return Err(runc::Error::new(runc::ErrorKind::InvalidArgument, format!("ps {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim())));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header.split_whitespace().position(|h| h == "PID").ok_or_else(|| runc::Error::new(runc::ErrorKind::InvalidArgument, "couldn't find PID field in ps output"))?;
    println!("{header}");
    for l in lines {
        if l.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok()).is_some_and(|p| pids.contains(&p)) {
            println!("{l}");
        }
    }
    Ok(())
}

/// `events`: stats every interval and "oom" as it happens, until the container stops.
pub fn events(rt: &runc::Runtime, id: &str, once: bool, interval: &str) -> runc::Result<()> {
    use std::io::Write;
    let stats = |rt: &runc::Runtime| -> runc::Result<()> {
        let v = serde_json::json!({"type": "stats", "id": id, "data": rt.stats(id)?});
        println!("{v}");
        std::io::stdout().flush().ok();
        Ok(())
    };
    if once {
        return stats(rt);
    }
    let secs: f64 = interval.trim_end_matches('s').parse().map_err(|_| runc::Error::new(runc::ErrorKind::InvalidArgument, format!("--interval {interval:?}: want seconds")))?;
    let every = std::time::Duration::from_secs_f64(secs.max(0.01));
    let mut ooms = rt.oom_kills(id)?;
    let mut next = std::time::Instant::now();
    loop {
        if rt.state(id)?.status == runc::Status::Stopped {
            return Ok(());
        }
        let now_ooms = rt.oom_kills(id).unwrap_or(ooms);
        if now_ooms > ooms {
            println!("{}", serde_json::json!({"type": "oom", "id": id}));
            std::io::stdout().flush().ok();
            ooms = now_ooms;
        }
        if std::time::Instant::now() >= next {
            stats(rt)?;
            next += every;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
