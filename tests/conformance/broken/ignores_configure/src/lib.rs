//! Broken: declares a required parameter but accepts a config without it. Check: configure.
use dataflare_guest::{Config, Filter, ParamInfo, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct IgnoresConfigure {
    field: Option<String>,
}

impl Filter for IgnoresConfigure {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("ignores_configure", "0.1.0", PluginKind::Filter, "keeps records that mention `field`")
            .param(ParamInfo::required("field", "the text to look for"))
    }
    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        // The bug: a missing required parameter is silently accepted.
        self.field = config.get("field").map(str::to_string);
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        let needle = self.field.as_deref().unwrap_or("").as_bytes();
        Ok(needle.is_empty() || record.value.windows(needle.len()).any(|w| w == needle))
    }
}

dataflare_guest::export_filter!(IgnoresConfigure);
