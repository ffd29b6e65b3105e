//! Broken: imports `acme:net/fetch`, which no DataFlare world allows. Check: imports.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, RecordView};

#[link(wasm_import_module = "acme:net/fetch")]
extern "C" {
    #[link_name = "fetch"]
    fn fetch(url: i32, len: i32) -> i32;
}

#[derive(Default)]
pub struct UndeclaredImport;

impl Filter for UndeclaredImport {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("undeclared_import", "0.1.0", PluginKind::Filter, "asks the network")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        let url = record.value;
        Ok(unsafe { fetch(url.as_ptr() as i32, url.len() as i32) } == 200)
    }
}

dataflare_guest::export_filter!(UndeclaredImport);
