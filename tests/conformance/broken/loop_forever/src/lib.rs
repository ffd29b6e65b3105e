//! Broken: never returns from `filter`. Check: resource-budget (fuel).
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct LoopForever;

impl Filter for LoopForever {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("loop_forever", "0.1.0", PluginKind::Filter, "waits for a record that never comes")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        let mut spins = record.value.len() as u64;
        loop {
            // Volatile, so the optimiser cannot prove the loop pointless.
            unsafe { std::ptr::write_volatile(&mut spins, std::ptr::read_volatile(&spins).wrapping_add(1)) };
        }
    }
}

dataflare_guest::export_filter!(LoopForever);
