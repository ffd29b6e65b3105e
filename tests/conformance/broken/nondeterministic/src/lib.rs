//! Broken: keeps each record with probability 1/2, from WASI randomness. Check: determinism.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, RecordView};

#[link(wasm_import_module = "wasi:random/random@0.2.0")]
extern "C" {
    #[link_name = "get-random-u64"]
    fn get_random_u64() -> i64;
}

#[derive(Default)]
pub struct Nondeterministic;

impl Filter for Nondeterministic {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("nondeterministic", "0.1.0", PluginKind::Filter, "samples half the records")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, _record: RecordView<'_>) -> Result<bool, PluginError> {
        Ok(unsafe { get_random_u64() } & 1 == 1)
    }
}

dataflare_guest::export_filter!(Nondeterministic);
