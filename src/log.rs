//! Where the library's warnings go (failed poststart/poststop hooks): the CLI
//! routes them to its --log; by default they go to stderr.

use once_cell::sync::OnceCell;

type Sink = Box<dyn Fn(&str) + Send + Sync>;
static SINK: OnceCell<Sink> = OnceCell::new();

/// Sets the warning sink once per process; later calls are ignored.
pub fn set_warning_sink(f: impl Fn(&str) + Send + Sync + 'static) {
    let _ = SINK.set(Box::new(f));
}

pub fn warn(msg: &str) {
    match SINK.get() {
        Some(f) => f(msg),
        None => eprintln!("warning: {msg}"),
    }
}
