//! `sink/jsonl_sink`: write records as JSON Lines into a directory the host grants.
//!
//! The capability model in one plugin: the component holds no ambient
//! authority, so it can only open files under a directory the host
//! preopened (`WasiConfig.preopen_dir(host_dir, guest_dir)`). `path` names
//! the file as the guest sees it (e.g. `/out/records.jsonl`); a path outside
//! every granted directory fails `connect` with an `io` plugin-error, never
//! a trap.
//!
//! Parameters: `path` (required); `mode`, `overwrite` (default) or `append`.
//! Each record's value must be one JSON text: it is written on one line,
//! as is, or re-encoded canonically if it spans lines. A value that is not
//! JSON fails that record with a `serialization` error ("value is not valid
//! JSON"), like the host's `jsonl` connector in `format: value`.
#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};

use dataflare_guest::json;
use dataflare_guest::{Config, ParamInfo, PluginError, PluginInfo, PluginKind, RecordView, Sink};

enum State {
    Configured,
    Open(BufWriter<File>),
    Closed,
}

pub struct JsonlSink {
    path: String,
    append: bool,
    state: State,
}

impl Default for JsonlSink {
    fn default() -> Self {
        JsonlSink { path: String::new(), append: false, state: State::Configured }
    }
}

/// The bytes of one line for `value` (without the newline).
pub fn line(value: &[u8]) -> Result<Vec<u8>, PluginError> {
    let parsed = json::parse(value)
        .map_err(|_| PluginError::Serialization(json::INVALID_JSON.to_string()))?;
    if value.iter().any(|b| *b == b'\n' || *b == b'\r') {
        Ok(json::canonical(&parsed))
    } else {
        Ok(value.to_vec())
    }
}

impl JsonlSink {
    fn writer(&mut self) -> Result<&mut BufWriter<File>, PluginError> {
        match &mut self.state {
            State::Open(w) => Ok(w),
            State::Configured => Err(PluginError::Io("sink is not connected".to_string())),
            State::Closed => Err(PluginError::Io("sink is closed".to_string())),
        }
    }
}

fn io_error(what: &str, path: &str, e: std::io::Error) -> PluginError {
    PluginError::Io(format!("cannot {} {}: {}", what, path, e))
}

impl Sink for JsonlSink {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new(
            "jsonl_sink",
            "0.1.0",
            PluginKind::Sink,
            "Write records as JSON Lines into a directory the host grants.",
        )
        .param(ParamInfo::required("path", "the file to write, as the guest sees it"))
        .param(ParamInfo::optional("mode", "overwrite or append", Some("overwrite")))
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        let config = config.validate(&self.describe())?;
        self.path = config.require("path")?.to_string();
        self.append = match config.require("mode")? {
            "overwrite" => false,
            "append" => true,
            other => {
                return Err(PluginError::Configuration(format!(
                    "plugin 'jsonl_sink': mode must be one of overwrite, append; got '{}'",
                    other
                )))
            }
        };
        Ok(())
    }

    fn connect(&mut self) -> Result<(), PluginError> {
        if self.path.is_empty() {
            return Err(PluginError::Configuration(
                "plugin 'jsonl_sink': parameter 'path' is not set".to_string(),
            ));
        }
        let mut options = OpenOptions::new();
        options.create(true);
        if self.append {
            options.append(true);
        } else {
            options.write(true).truncate(true);
        }
        let file = options.open(&self.path).map_err(|e| io_error("open", &self.path, e))?;
        self.state = State::Open(BufWriter::new(file));
        Ok(())
    }

    fn write(&mut self, record: RecordView<'_>) -> Result<(), PluginError> {
        let mut bytes = line(record.value)?;
        bytes.push(b'\n');
        let path = self.path.clone();
        self.writer()?.write_all(&bytes).map_err(|e| io_error("write", &path, e))
    }

    fn flush(&mut self) -> Result<(), PluginError> {
        let path = self.path.clone();
        let w = self.writer()?;
        w.flush().map_err(|e| io_error("flush", &path, e))?;
        w.get_ref().sync_data().map_err(|e| io_error("sync", &path, e))
    }

    fn close(&mut self) -> Result<(), PluginError> {
        let result = match &self.state {
            State::Open(_) => self.flush(),
            _ => Ok(()),
        };
        self.state = State::Closed;
        result
    }
}

dataflare_guest::export_sink!(JsonlSink);

#[cfg(test)]
mod tests {
    use super::*;
    use dataflare_guest::{Batch, Record};

    #[test]
    fn lines_stay_as_is_unless_they_span_lines() {
        assert_eq!(line(b"{\"a\": 1}").unwrap(), b"{\"a\": 1}".to_vec());
        assert_eq!(line(b"{\"a\":\n 1.0}").unwrap(), b"{\"a\":1}".to_vec());
        assert_eq!(
            line(b"nope").unwrap_err(),
            PluginError::Serialization(json::INVALID_JSON.to_string())
        );
    }

    #[test]
    fn writes_and_closes() {
        let dir = std::env::temp_dir().join(format!("jsonl_sink_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("o.jsonl").to_string_lossy().into_owned();
        let mut s = JsonlSink::default();
        s.configure(Config::new(vec![("path".into(), path.clone())])).unwrap();
        assert!(matches!(s.write(Record::new(b"1".to_vec()).view()), Err(PluginError::Io(_))));
        s.connect().unwrap();
        let batch = Batch::from_records(&[Record::new(b"1".to_vec()), Record::new(b"x".to_vec())]);
        let errors = s.write_batch(&batch);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].index, 1);
        s.close().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"1\n".to_vec());
        assert_eq!(s.write(Record::new(b"2".to_vec()).view()), Err(PluginError::Io("sink is closed".into())));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
