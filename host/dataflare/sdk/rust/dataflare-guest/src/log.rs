//! Host logging through the `dataflare:plugin/log` import (no stdio needed).

/// Severity, in WIT enum order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "dataflare:plugin/log@0.2.0")]
extern "C" {
    #[link_name = "log"]
    fn host_log(level: i32, ptr: i32, len: i32);
}

/// Emit one log line through the host's logging.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    // The host copies the string out during the call; we keep ownership.
    unsafe {
        host_log(level as i32, message.as_ptr() as i32, message.len() as i32)
    };
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// `log(Level::Trace, ..)`.
pub fn trace(message: &str) {
    log(Level::Trace, message)
}
/// `log(Level::Debug, ..)`.
pub fn debug(message: &str) {
    log(Level::Debug, message)
}
/// `log(Level::Info, ..)`.
pub fn info(message: &str) {
    log(Level::Info, message)
}
/// `log(Level::Warn, ..)`.
pub fn warn(message: &str) {
    log(Level::Warn, message)
}
/// `log(Level::Error, ..)`.
pub fn error(message: &str) {
    log(Level::Error, message)
}
