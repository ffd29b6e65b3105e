//! `transform/echo`: returns each record unchanged: the SDK's round-trip guest.
//!
//! Tests use it to check that records survive the canonical ABI both ways.
//! A record whose metadata holds `echo.fail` = `processing`, `configuration`,
//! `io` or `serialization` fails with that error kind (message: the value as
//! text), and `echo.log` = message sends that message to the host log at
//! info level, so every error case and the `log` import can be exercised.
#![forbid(unsafe_code)]

use dataflare_guest::{log, Config, ParamInfo, PluginError, PluginInfo, PluginKind, Record, RecordView, Transform};

#[derive(Default)]
pub struct Echo;

impl Transform for Echo {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("echo", "0.1.0", PluginKind::Transform, "Return each record unchanged.")
            .param(ParamInfo::optional("note", "ignored; shows a default", Some("dëfault")))
            .param(ParamInfo::optional("other", "ignored; no default", None))
            .param(ParamInfo::required("tag", "any text; shows a required parameter"))
    }

    /// Accepts any names (tests send arbitrary pairs) but needs `tag`; a
    /// `fail` parameter fails with its value as the message.
    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        if let Some(message) = config.get("fail") {
            return Err(PluginError::Configuration(message.to_string()));
        }
        config.require("tag").map(|_| ())
    }

    fn transform(&mut self, record: RecordView<'_>) -> Result<Record, PluginError> {
        if let Some(message) = record.metadata_get("echo.log") {
            log::info(message);
        }
        if let Some(kind) = record.metadata_get("echo.fail") {
            let case = ["processing", "configuration", "io", "serialization"]
                .iter()
                .position(|k| k == &kind)
                .unwrap_or(0);
            let message = String::from_utf8_lossy(record.value).into_owned();
            return Err(PluginError::from_case(case as u8, message).unwrap());
        }
        Ok(record.to_record())
    }
}

dataflare_guest::export_transform!(Echo);
