//! Broken: built against dataflare:plugin@0.3.0, a version no host supports (the Makefile rewrites the version). Check: world.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, Record};

#[derive(Default)]
pub struct WrongVersion;

impl Filter for WrongVersion {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("wrong_version", "0.1.0", PluginKind::Filter, "built for dataflare:plugin@0.2.0")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: &Record) -> Result<bool, PluginError> {
        Ok(!record.value.is_empty())
    }
}

dataflare_guest::export_filter!(WrongVersion);
